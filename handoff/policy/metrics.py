"""Precision, recall and F1 of a yes/no decision, from its counts."""

from __future__ import annotations

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


def ratio(value: float | None, digits: int = 3) -> str:
    """A ratio for a table: "0.917", or "-" when undefined."""
    return "-" if value is None else f"{value:.{digits}f}"
