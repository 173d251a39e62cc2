"""The one error of the load benchmark: something it needs is missing or broken."""

from __future__ import annotations

from bot.errors import TandemError


class BenchError(TandemError):
    """The benchmark cannot run, or stopped; the message says what to do."""
