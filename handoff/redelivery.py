"""The redelivery loop: what the outbox still holds is tried again every interval, and at
once when a platform's "wait" is over."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

logger = logging.getLogger(__name__)


class Alarm:
    """When the next redelivery is due earlier than the interval (a message that Telegram
    or Slack asked to hold for N seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._due = math.inf
        self._changed = asyncio.Event()

    def ring_in(self, seconds: float) -> None:
        due = self._clock() + max(seconds, 0.0)
        if due < self._due:
            self._due = due
            self._changed.set()

    async def wait(self, longest: float, *, stop: asyncio.Event | None = None) -> bool:
        """Sleep until the alarm or ``longest`` seconds, or less once ``stop`` is set; True
        if the alarm rang."""
        deadline = self._clock() + longest
        while stop is None or not stop.is_set():
            now = self._clock()
            if self._due <= now:
                self._due = math.inf
                return True
            if deadline <= now:
                return False
            self._changed.clear()
            await _first_of(self._changed, stop, timeout=min(self._due, deadline) - now)
        return False


async def _first_of(event: asyncio.Event, stop: asyncio.Event | None, *, timeout: float) -> None:
    """Until ``event`` or ``stop`` is set, or ``timeout`` seconds."""
    waiters = [asyncio.ensure_future(e.wait()) for e in (event, stop) if e is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def redeliver_forever(
    redeliver: Callable[[timedelta], Awaitable[int]],
    *,
    interval: float,
    alarm: Alarm,
    due: Callable[[], Awaitable[int]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Once now, then every ``interval`` seconds (messages at least that old: their first
    attempt is not raced) and whenever the alarm rings: ``due()``, the conversations held
    back until then, or without it every pending message (the conversation's lock keeps a
    message from being sent by two paths). Ends between rounds once ``stop`` is set."""
    stop = stop or asyncio.Event()
    older_than = timedelta(seconds=interval)
    rang = False
    while not stop.is_set():
        try:
            count = await (due() if rang and due is not None else redeliver(older_than))
        except Exception:
            logger.exception("redelivery failed; trying again in %.0f s", interval)
        else:
            if count:
                logger.info("redelivered %d stored message(s)", count)
        rang = await alarm.wait(interval, stop=stop)
        older_than = timedelta(0) if rang else timedelta(seconds=interval)
