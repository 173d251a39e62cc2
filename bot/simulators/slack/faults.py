"""Injected failures: the next calls to a method answer a rate limit, a server error or an
``ok: false`` error instead of taking effect, or take effect and answer too late."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from bot.simulators.slack.records import Fault

# What Slack puts in ``error`` for these statuses.
DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


class FaultPlan:
    def __init__(self) -> None:
        self._planned: dict[str, deque[Fault | None]] = {}  # None: a call that works
        self._slow: dict[str, deque[float]] = {}

    def schedule(
        self,
        method: str,
        *,
        status: int | None,
        error: str | None,
        retry_after: int,
        times: int,
        after: int = 0,
    ) -> None:
        if status is None:
            status = 200 if error is not None else 429
        if status != 429 and not 500 <= status <= 599 and not (status == 200 and error):
            raise ValueError("fail_next needs status 429 or 5xx, or an error for HTTP 200")
        _check_times(times)
        if after < 0:
            raise ValueError("fail_next needs after >= 0")
        fault = Fault(
            status=status,
            error=error or DEFAULT_ERRORS.get(status, "fatal_error"),
            retry_after=retry_after,
        )
        self._planned.setdefault(method, deque()).extend([None] * after + [fault] * times)

    def schedule_slow(self, method: str, *, delay: float, times: int) -> None:
        if delay <= 0:
            raise ValueError("slow_next needs a delay of more than 0 seconds")
        _check_times(times)
        self._slow.setdefault(method, deque()).extend([delay] * times)

    def take(self, method: str) -> Fault | None:
        """The fault for this call to ``method``, used up by taking it."""
        planned = self._planned.get(method)
        return planned.popleft() if planned else None

    def take_slow(self, method: str) -> float | None:
        """How late this call to ``method`` is answered (after taking effect), if it is."""
        planned = self._slow.get(method)
        return planned.popleft() if planned else None


def _check_times(times: int) -> None:
    if times < 1:
        raise ValueError("a fault needs times >= 1")


# Methods that post a message in a channel, and so count against its limit.
POSTING_METHODS = frozenset({"chat.postMessage", "files.completeUploadExternal"})


class ChannelLimit:
    """Slack's limit on posting: about ``per_second`` messages a second per channel, with
    bursts of ``burst`` (a token bucket); beyond it a post is refused with 429 and the
    seconds until a token is back as ``Retry-After`` (whole seconds, as Slack sends)."""

    def __init__(
        self, *, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a channel limit needs per_second > 0 and burst >= 1")
        self._rate = per_second
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def take(self, channel: str) -> int | None:
        """None if ``channel`` may take a post now (and it is counted), else Retry-After."""
        now = self._clock()
        tokens, at = self._buckets.get(channel, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens >= 1.0:
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        self._buckets[channel] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self._rate))
