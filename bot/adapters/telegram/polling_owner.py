"""Long polling with several workers: Telegram serves one getUpdates at a time per bot (a
second one is refused with 409 Conflict), so one worker polls, the one holding the
``telegram-polling`` lease (see :mod:`handoff.lease`); the others stand by and look again
every third of the lease. When the poller dies its lease runs out and a standby takes
over: updates wait at Telegram meanwhile (it keeps them for a day), so nothing is lost,
and what the dead worker confirmed it had journaled already. The takeover takes at most
the lease plus a third of it (``POLLING_LEASE``: 15 s, so 20 s).

Webhook mode needs none of this: Telegram posts each update to the load balancer, which
spreads them over every worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from handoff.errors import HandoffError
from handoff.lease import Lease
from handoff.stopping import pause, stop_between_rounds

logger = logging.getLogger(__name__)

POLLING = "telegram-polling"
POLLING_LEASE = 15.0  # seconds


class PollingOwner:
    """Polls (``start()``) while this worker holds the lease, stands by (``stop()``) while
    another does."""

    def __init__(
        self,
        *,
        lease: Lease,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        ttl: float = POLLING_LEASE,
    ) -> None:
        self._lease = lease
        self._start = start
        self._stop = stop
        self._ttl = ttl
        self.polling = False
        self.changed = asyncio.Event()  # set at every start or stop of polling (tests await)
        self._task: asyncio.Task[None] | None = None
        self._ending = asyncio.Event()  # set at end(): the lease's look stops between rounds
        self._looked = False

    async def begin(self) -> None:
        """Take the lease if it is free and poll, then keep looking in the background."""
        await self._look()
        self._ending = asyncio.Event()
        self._task = asyncio.create_task(self._watch(), name="telegram polling lease")

    async def end(self, *, give_up: bool = True) -> None:
        """Stop looking and polling; ``give_up`` lets a standby take over at once (a crash
        does not, and the lease runs out instead)."""
        if self._task is not None:
            await stop_between_rounds(self._task, self._ending)
            self._task = None
        if self.polling:
            await self._set(polling=False)
        if give_up:
            try:
                await self._lease.give_up(POLLING)
            except HandoffError as exc:
                logger.warning("could not give up polling (its lease runs out): %s", exc)
        await self._lease.close()  # the adapter's own (see bot.scale.polling_lease)

    async def _watch(self) -> None:
        while not await pause(self._ending, self._ttl / 3):
            try:
                await self._look()
            except Exception:
                logger.exception("looking at the polling lease failed; looking again")

    async def _look(self) -> None:
        try:
            holds = await self._lease.take(POLLING, ttl=self._ttl)
        except HandoffError as exc:
            # Redis away: keep doing what this worker did; the lease decides once it is back.
            logger.warning("cannot reach the polling lease: %s", exc)
            return
        if holds != self.polling or not self._looked:  # the first look says which it is
            self._looked = True
            await self._set(polling=holds)

    async def _set(self, *, polling: bool) -> None:
        if polling:
            await self._start()
            logger.info("this worker polls Telegram now")
        else:
            await self._stop()
            logger.info("another worker polls Telegram; this one stands by")
        self.polling = polling
        self.changed.set()
        self.changed = asyncio.Event()
