"""Precision, recall and F1 of a yes/no decision, from its counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BinaryScore:
    """Counts of one yes/no decision against the truth; ratios are None when undefined."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, pairs: list[tuple[bool, bool]]) -> BinaryScore:
        """From (expected, predicted) pairs."""
        return cls(
            tp=sum(1 for want, got in pairs if want and got),
            fp=sum(1 for want, got in pairs if not want and got),
            fn=sum(1 for want, got in pairs if want and not got),
            tn=sum(1 for want, got in pairs if not want and not got),
        )

    @property
    def support(self) -> int:
        """How many were truly positive."""
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        # Nothing to find and nothing claimed: undefined, not perfect and not zero.
        if self.tp + self.fp + self.fn == 0:
            return None
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)

    @property
    def accuracy(self) -> float | None:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else None


def auroc(pairs: Sequence[tuple[bool, float]]) -> float | None:
    """The area under the ROC curve of (truth, score) pairs: the chance that a random
    positive scores above a random negative (ties count half); None without both kinds."""
    ranked = sorted(pairs, key=lambda pair: pair[1])
    positives = sum(1 for truth, _ in ranked if truth)
    negatives = len(ranked) - positives
    if not positives or not negatives:
        return None
    rank_sum, index = 0.0, 0
    while index < len(ranked):
        end = index
        while end < len(ranked) and ranked[end][1] == ranked[index][1]:
            end += 1
        average_rank = (index + 1 + end) / 2  # ranks from 1; ties share their average
        rank_sum += average_rank * sum(1 for truth, _ in ranked[index:end] if truth)
        index = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def ratio(value: float | None, digits: int = 3) -> str:
    """A ratio for a table: "0.917", or "-" when undefined."""
    return "-" if value is None else f"{value:.{digits}f}"
