"""Errors raised by :mod:`handoff.policy`; they share the handoff core's base."""

from __future__ import annotations

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
