"""All the detectors in force, run over a text: non-overlapping findings, in order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from handoff.privacy.checksums import checksum_named
from handoff.privacy.detectors import (
    CardDetector,
    Detector,
    EmailDetector,
    IbanDetector,
    PatternDetector,
    PhoneDetector,
)
from handoff.privacy.errors import PrivacyConfigError
from handoff.privacy.findings import BUILT_IN, Finding, Kind

_DROP_DIGITS = str.maketrans("", "", "0123456789")
_KIND_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class Pattern:
    """An operator's kind of personal data: ``regex``, and a python-stdnum ``checksum``
    name the match must pass (None: the regex alone)."""

    kind: str
    regex: str
    checksum: str | None = None


@dataclass(frozen=True, slots=True)
class Scanner:
    """Runs ``detectors`` in order; a finding overlapping an earlier one is dropped (a
    card number is not also a phone number). A text with neither a digit nor an ``@`` is
    not looked at further: every kind needs one (operators' patterns included)."""

    detectors: tuple[Detector, ...]

    def find(self, text: str) -> tuple[Finding, ...]:
        digits = len(text) - len(text.translate(_DROP_DIGITS))
        if digits == 0 and "@" not in text:
            return ()  # most messages: a single pass in C
        kept: list[Finding] = []
        for detector in self.detectors:
            for finding in detector.find(text, digits):
                if not any(finding.overlaps(other) for other in kept):
                    kept.append(finding)
        return tuple(sorted(kept, key=lambda finding: finding.start))


def build_scanner(
    *, kinds: Iterable[str] = BUILT_IN, region: str = "US", patterns: Iterable[Pattern] = ()
) -> Scanner:
    """The scanner for the settings; :class:`PrivacyConfigError` names a bad one."""
    wanted = set(kinds)
    unknown = wanted - set(BUILT_IN)
    if unknown:
        raise PrivacyConfigError(
            f"kinds: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(BUILT_IN)}"
        )
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise PrivacyConfigError(f"default_region: {region!r} is not a region code such as US")
    detectors: list[Detector] = []
    if Kind.EMAIL in wanted:
        detectors.append(EmailDetector())
    # IBANs before cards: the digits of an IBAN may pass Luhn by chance.
    if Kind.IBAN in wanted:
        detectors.append(IbanDetector())
    if Kind.CARD in wanted:
        detectors.append(CardDetector())
    detectors += [_pattern_detector(pattern) for pattern in patterns]
    if Kind.PHONE in wanted:
        detectors.append(PhoneDetector(region=region.upper()))
    return Scanner(detectors=tuple(detectors))


def _pattern_detector(pattern: Pattern) -> PatternDetector:
    if not _KIND_NAME.fullmatch(pattern.kind) or pattern.kind in BUILT_IN:
        raise PrivacyConfigError(
            f"patterns: kind {pattern.kind!r}: expected a new lower-case name such as order_number"
        )
    try:
        compiled = re.compile(pattern.regex)
    except re.error as exc:
        raise PrivacyConfigError(f"patterns: {pattern.kind}: bad regex ({exc})") from None
    checksum = checksum_named(pattern.checksum) if pattern.checksum else None
    # Operators' patterns are identifiers: tried only on texts with a digit (see Scanner).
    return PatternDetector(kind=pattern.kind, pattern=compiled, checksum=checksum, min_digits=1)
