"""Masking: each finding replaced with a typed placeholder such as ``[card]``, so that the
NLU still reads "my card [card] was charged twice" as a billing question, and a person sees
what kind of value was there."""

from __future__ import annotations

from dataclasses import dataclass

from handoff.privacy.findings import Finding
from handoff.privacy.scanner import Scanner


def placeholder(kind: str) -> str:
    return f"[{kind}]"


@dataclass(frozen=True, slots=True)
class Masked:
    """A text with its personal data replaced; ``findings`` are in the original text."""

    original: str
    text: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds found, each once, in order of first appearance."""
        return tuple(dict.fromkeys(finding.kind for finding in self.findings))

    def placeholder_span(self, number: int) -> tuple[int, int]:
        """Where the placeholder of finding ``number`` is in the masked text."""
        start = self.findings[number].start - self._shift_before(number)
        return start, start + len(placeholder(self.findings[number].kind))

    def to_original(self, position: int) -> int:
        """The position in the original text of ``position`` in the masked one (a position
        inside a placeholder maps to the end of its value)."""
        for number, finding in enumerate(self.findings):
            start, end = self.placeholder_span(number)
            if position < start:
                return position + self._shift_before(number)
            if position < end:
                return finding.end if position > start else finding.start
        return position + self._shift_before(len(self.findings))

    def _shift_before(self, number: int) -> int:
        """How much longer the original is than the masked text before finding ``number``."""
        return sum((f.end - f.start) - len(placeholder(f.kind)) for f in self.findings[:number])

    def restore(self, start: int, end: int) -> str:
        """``text[start:end]`` (of the masked text) with the original values put back: what
        an NLU entity over a placeholder really said."""
        pieces: list[str] = []
        at, shift = start, 0  # shift: original position minus masked position
        for finding in self.findings:
            mark = placeholder(finding.kind)
            masked_start = finding.start - shift
            masked_end = masked_start + len(mark)
            if masked_end <= start:
                shift += (finding.end - finding.start) - len(mark)
                continue
            if masked_start >= end:
                break
            pieces.append(self.text[at:masked_start] if masked_start > at else "")
            pieces.append(self.original[finding.start : finding.end])
            at = max(at, masked_end)
            shift += (finding.end - finding.start) - len(mark)
        pieces.append(self.text[at:end] if end > at else "")
        return "".join(pieces)


def mask_findings(text: str, findings: tuple[Finding, ...]) -> Masked:
    if not findings:
        return Masked(original=text, text=text, findings=())
    pieces: list[str] = []
    at = 0
    for finding in findings:
        pieces += (text[at : finding.start], placeholder(finding.kind))
        at = finding.end
    pieces.append(text[at:])
    return Masked(original=text, text="".join(pieces), findings=findings)


@dataclass(frozen=True, slots=True)
class Masker:
    """Finds and masks personal data with ``scanner``."""

    scanner: Scanner

    def mask(self, text: str) -> Masked:
        return mask_findings(text, self.scanner.find(text))

    def text(self, text: str) -> str:
        """``text`` masked (the same string when it holds nothing to mask)."""
        findings = self.scanner.find(text)
        return mask_findings(text, findings).text if findings else text
