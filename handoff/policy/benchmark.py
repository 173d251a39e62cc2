"""Benchmarks of the policy's parts on public data sets (``tandem bench``); not tests.

Frustration on GoEmotions (Demszky et al. 2020): Reddit comments labelled with 27 emotions.
A comment is frustrated when any of its labels is anger, annoyance, disappointment,
disapproval or disgust. Reddit is not a support desk, so the numbers compare the detector
with VADER alone and guide the threshold; they do not predict precision on customers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.policy.errors import BenchmarkDataError
from handoff.policy.frustration import FrustrationDetector
from handoff.policy.metrics import BinaryScore

FRUSTRATION_EMOTIONS = frozenset({"anger", "annoyance", "disappointment", "disapproval", "disgust"})
# VADER's own convention: compound <= -0.05 is negative.
VADER_NEGATIVE = -0.05


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    frustrated: bool


@dataclass(frozen=True, slots=True)
class Scored:
    """One text's truth, the detector's score and VADER's compound score."""

    frustrated: bool
    score: float
    sentiment: float
    cues: tuple[str, ...] = ()
    model_probability: float = 0.0


@dataclass(frozen=True, slots=True)
class SweepPoint:
    threshold: float
    result: BinaryScore


def load_goemotions(tsv: Path, emotions: Path | None = None) -> list[LabelledText]:
    """GoEmotions' TSV (text, label ids, comment id; no header) with ``emotions.txt``
    beside it (one emotion per line; a label id is a line number from 0)."""
    emotions = emotions or tsv.with_name("emotions.txt")
    try:
        names = emotions.read_text(encoding="utf-8").split()
        rows = tsv.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkDataError(f"cannot read GoEmotions: {exc}") from None
    texts: list[LabelledText] = []
    for number, row in enumerate(csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
        if len(row) != 3:
            raise BenchmarkDataError(f"{tsv}:{number}: expected 3 tab-separated columns")
        try:
            labels = {names[int(label)] for label in row[1].split(",")}
        except (ValueError, IndexError):
            raise BenchmarkDataError(
                f"{tsv}:{number}: expected label ids 0-{len(names) - 1}, got {row[1]!r}"
            ) from None
        texts.append(LabelledText(row[0], bool(labels & FRUSTRATION_EMOTIONS)))
    return texts


def score_texts(texts: Sequence[LabelledText], detector: FrustrationDetector) -> list[Scored]:
    return [score_text(item, detector) for item in texts]


def score_text(item: LabelledText, detector: FrustrationDetector) -> Scored:
    frustration = detector.assess(item.text, intent=None, previous_texts=())
    return Scored(
        item.frustrated,
        frustration.score,
        frustration.sentiment,
        frustration.cues,
        frustration.model_probability,
    )


def at_threshold(scored: Sequence[Scored], threshold: float) -> BinaryScore:
    """The detector: frustrated when its score reaches ``threshold``."""
    return _measure(scored, lambda s: s.score >= threshold)


def vader_only(scored: Sequence[Scored], cutoff: float = VADER_NEGATIVE) -> BinaryScore:
    """The baseline: frustrated when VADER's compound score is at or below ``cutoff``."""
    return _measure(scored, lambda s: s.sentiment <= cutoff)


def sweep(
    scored: Sequence[Scored], thresholds: Sequence[float], *, vader: bool = False
) -> list[SweepPoint]:
    """The detector at each threshold; with ``vader``, VADER's compound at cut-off -t."""
    return [
        SweepPoint(t, vader_only(scored, -t) if vader else at_threshold(scored, t))
        for t in thresholds
    ]


def _measure(scored: Sequence[Scored], predict: Callable[[Scored], bool]) -> BinaryScore:
    return BinaryScore.of([(item.frustrated, predict(item)) for item in scored])
