"""Errors raised by :mod:`handoff.policy`; they share the handoff core's base."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from handoff.errors import HandoffError


class PolicyError(HandoffError):
    """Base of the policy's errors."""


class EvaluationFileError(PolicyError):
    """A labelled-conversations file cannot be used. Each line names a place and a problem,
    ``path:line: what is wrong``."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class BenchmarkDataError(PolicyError):
    """A benchmark's data set is missing or malformed."""


class WeightsError(PolicyError):
    """The text model's weights or training data cannot be read, or do not match."""


# --- words for error messages ---------------------------------------------------------


def did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def one_of(words: Iterable[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
