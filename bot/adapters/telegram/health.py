"""How well the adapter receives updates, for ``/healthz``.

In long polling, a getUpdates call returns at the latest after ``poll_timeout`` seconds, so
an answer older than that (plus a margin for the network) means polling is stuck or
failing; Telegram keeps updates for a day, so a stale poll loses nothing yet, but nobody
is being answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "degraded", "down"]

STALE_MARGIN = 30.0  # seconds past poll_timeout before a missing answer counts
DOWN_AFTER = 300.0  # seconds without an answer before polling counts as down


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    status: Status
    detail: str


class PollWatch:
    """Remembers when getUpdates last answered; ``clock`` is :func:`time.monotonic` or a
    test's own."""

    def __init__(self, *, poll_timeout: float, clock: Callable[[], float]) -> None:
        self._degraded_after = poll_timeout + STALE_MARGIN
        self._down_after = max(DOWN_AFTER, 2 * self._degraded_after)
        self._clock = clock
        self._since: float | None = None  # when polling started; None while it is not
        self._answered: float | None = None
        self._last_error: str | None = None
        self._standby = False

    def started(self) -> None:
        self._since = self._clock()
        self._standby = False

    def stopped(self) -> None:
        self._since = None
        self._standby = False

    def standing_by(self) -> None:
        """Another worker polls (see .polling_owner): this one is healthy without polling."""
        self._since = None
        self._standby = True

    def answered(self) -> None:
        self._answered = self._clock()
        self._last_error = None

    def failed(self, error: str) -> None:
        self._last_error = error

    def health(self) -> ComponentHealth:
        if self._since is None and self._standby:
            return ComponentHealth("ok", "long polling: standing by, another worker polls")
        if self._since is None:
            return ComponentHealth("down", "long polling is not running")
        now = self._clock()
        if self._answered is None or self._answered < self._since:
            age = now - self._since
            detail = f"long polling: no getUpdates answer in the {age:.0f} s since start"
        else:
            age = now - self._answered
            detail = f"long polling: getUpdates answered {age:.0f} s ago"
        if self._last_error is not None:
            detail += f"; last error: {self._last_error}"
        if age > self._down_after:
            return ComponentHealth("down", detail)
        if age > self._degraded_after:
            expected = f"(expected within {self._degraded_after:.0f} s)"
            return ComponentHealth("degraded", f"{detail} {expected}")
        return ComponentHealth("ok", detail)
