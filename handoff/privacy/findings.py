"""What a detector finds in a text: a kind of personal data and where it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The kinds Tandem finds by itself; operators' patterns add kinds of their own name."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"


BUILT_IN = tuple(kind.value for kind in Kind)


@dataclass(frozen=True, slots=True)
class Finding:
    """``text[start:end]`` is personal data of ``kind`` (a :class:`Kind` value, or the
    name of an operator's pattern)."""

    kind: str
    start: int
    end: int

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end
