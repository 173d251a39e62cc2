"""Precision and recall of a scanner on labelled messages, per kind.

A finding counts when a labelled span has the same kind and the same start and end; a
finding anywhere else (a wrong kind, a span cut short or too long, a number that is not
personal data) is a false positive, and the labelled span it missed a false negative.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from handoff.privacy.errors import PrivacyError
from handoff.privacy.findings import Finding
from handoff.privacy.scanner import Scanner

SHIPPED_SET = Path(__file__).resolve().parent / "data" / "messages.jsonl"


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    spans: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class KindScore:
    kind: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0


@dataclass(frozen=True, slots=True)
class Miss:
    """A message the scanner got wrong: what was labelled and what it found."""

    text: str
    labelled: tuple[Finding, ...]
    found: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    messages: int
    scores: tuple[KindScore, ...]
    misses: tuple[Miss, ...]


def load_labelled(path: Path = SHIPPED_SET) -> list[Labelled]:
    """The labelled messages of a JSON-lines file (``{"text", "spans": [{start, end, kind}]}``)."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PrivacyError(f"{path}: cannot read the labelled set ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = tuple(Finding(s["kind"], int(s["start"]), int(s["end"])) for s in row["spans"])
            rows.append(Labelled(text=str(row["text"]), spans=spans))
        except (ValueError, KeyError, TypeError) as exc:
            raise PrivacyError(f"{path}:{number}: expected text and spans ({exc})") from None
    return rows


def evaluate(scanner: Scanner, labelled: Iterable[Labelled]) -> Evaluation:
    counts: dict[str, list[int]] = {}  # kind -> [tp, fp, fn]
    misses, messages = [], 0
    for example in labelled:
        messages += 1
        found = scanner.find(example.text)
        expected = set(example.spans)
        for finding in found:
            counts.setdefault(finding.kind, [0, 0, 0])[0 if finding in expected else 1] += 1
        for span in expected - set(found):
            counts.setdefault(span.kind, [0, 0, 0])[2] += 1
        if set(found) != expected:
            misses.append(Miss(text=example.text, labelled=example.spans, found=found))
    scores = tuple(KindScore(kind, *counts[kind]) for kind in sorted(counts))
    return Evaluation(messages=messages, scores=scores, misses=tuple(misses))
