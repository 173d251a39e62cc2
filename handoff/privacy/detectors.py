"""Detectors of personal data, one kind each; cheap before they are thorough.

Each finds candidates with a precompiled regex and keeps those that pass a real check
(Luhn for cards, ISO 7064 for IBANs, Google's libphonenumber metadata for phones, an
operator's checksum). Texts without an ``@`` never reach the email regex; texts with fewer
digits than the shortest phone number never reach the others (most customer messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import phonenumbers
from stdnum import iban, luhn

from handoff.privacy.checksums import Checksum
from handoff.privacy.findings import Finding, Kind


class Detector(Protocol):
    """Finds one kind of personal data in a text."""

    def find(self, text: str, digits: int) -> Iterator[Finding]:
        """The findings in ``text``, which holds ``digits`` digits (the pre-check)."""
        ...


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-]|[ -]\d)")
_CARD_FIRST_DIGITS = frozenset("23456")  # Mastercard 2/5, Amex/JCB/Diners 3, Visa 4, 6
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?"
    r"(?![A-Za-z0-9])"
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SEPARATORS = str.maketrans("", "", " -")


@dataclass(frozen=True, slots=True)
class EmailDetector:
    def find(self, text: str, digits: int) -> Iterator[Finding]:
        if "@" not in text:
            return
        for match in _EMAIL.finditer(text):
            yield Finding(Kind.EMAIL, match.start(), match.end())


@dataclass(frozen=True, slots=True)
class CardDetector:
    """Payment card numbers: 13-19 digits that pass Luhn and start as issuers' do."""

    def find(self, text: str, digits: int) -> Iterator[Finding]:
        if digits < 13:
            return
        for match in _CARD.finditer(text):
            number = match.group().translate(_SEPARATORS)
            if number[0] in _CARD_FIRST_DIGITS and luhn.is_valid(number):
                yield Finding(Kind.CARD, match.start(), match.end())


@dataclass(frozen=True, slots=True)
class IbanDetector:
    def find(self, text: str, digits: int) -> Iterator[Finding]:
        if digits < 8:
            return
        for match in _IBAN.finditer(text):
            end = _valid_iban_end(text, match.start(), match.end())
            if end is not None:
                yield Finding(Kind.IBAN, match.start(), end)


def _valid_iban_end(text: str, start: int, end: int) -> int | None:
    """Where the IBAN starting at ``start`` ends: the regex may have taken a word after it
    ("... 8710 please"), so shorter candidates are tried, a group at a time."""
    while end - start >= 15:
        if iban.is_valid(text[start:end].upper()):
            return end
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end - 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
    return None


@dataclass(frozen=True, slots=True)
class PhoneDetector:
    """Phone numbers as libphonenumber reads them: valid for their country, written in
    ``region``'s national format or internationally with ``+``."""

    region: str
    min_digits: int = 7

    def find(self, text: str, digits: int) -> Iterator[Finding]:
        if digits < self.min_digits:
            return
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self.region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            if _part_of_something_else(text, match.start, match.end):
                continue
            yield Finding(Kind.PHONE, match.start, match.end)


def _part_of_something_else(text: str, start: int, end: int) -> bool:
    """Digits libphonenumber would take for a number that belong to a longer token: an
    IP address, a serial such as ``SN-6162218224``, a version, a code glued to letters."""
    if _IPV4.fullmatch(text, start, end):
        return True
    before = text[max(start - 2, 0) : start]
    after = text[end : end + 2]
    glued_before = before[-1:].isalnum() or (before[-1:] in "-./_" and before[:1].isalnum())
    glued_after = after[:1].isalnum() or (after[:1] in "-./_" and after[1:].isdigit())
    return glued_before or glued_after


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """An operator's pattern: a regex, and optionally a checksum the match must pass
    (applied to the regex's first group if it has one, else to the whole match, without
    spaces and dashes)."""

    kind: str
    pattern: re.Pattern[str]
    checksum: Checksum | None = None
    min_digits: int = 0

    def find(self, text: str, digits: int) -> Iterator[Finding]:
        if digits < self.min_digits:
            return
        for match in self.pattern.finditer(text):
            if match.end() == match.start():
                continue
            value = match.group(1 if self.pattern.groups else 0).translate(_SEPARATORS)
            if self.checksum is None or self.checksum(value):
                yield Finding(self.kind, match.start(), match.end())
