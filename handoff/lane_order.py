"""One order per lane across workers: each event takes a ticket when it is journaled, and
is handled only once every earlier ticket of its lane is done.

With several workers behind a load balancer (Telegram's webhook), two messages of one chat
can be journaled by two workers a moment apart; each worker's intake keeps its own lanes
in order, but not the other's. The ticket is taken before the event is acknowledged
(Telegram sends a chat's next update only then), so tickets follow the platform's order;
a worker handles ticket n once no earlier ticket of the lane is held
(:class:`~handoff.state.redis_order.RedisLaneOrder`: a counter and a sorted set of held
tickets per lane).

What may go wrong, and what then happens:

- the order's store (Redis) is away: the event is journaled without a ticket and handled
  as before, in this worker's order; nothing waits for it, nothing is lost;
- a worker is slow, or stopping (SIGTERM: it drains for up to 15 s): it is alive (each
  worker keeps a heartbeat in the order's store while it runs, and each ticket names its
  holder), so the lane's later events wait for it, up to ``wait_alive_up_to`` seconds
  (logged when reached: a worker stuck that long is not coming);
- a worker stopped with events not handled within its drain, or died (``kill -9``): they
  stay in its journal and keep their tickets, so that, handled first when it starts again
  (under the same identity, its heartbeat back), they keep their place. Once its heartbeat
  is gone, the lane's later events wait at most ``wait_up_to`` seconds more for it (a
  restart is back by then), then skip its tickets (logged) rather than keep the customer
  waiting; skipped, they are handled at the worker's restart, after the later ones.

One process alone needs none of this (:class:`NoOrder`: no ticket, no wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Protocol

from handoff.clock import utc_now
from handoff.errors import HandoffError

logger = logging.getLogger(__name__)

# Seconds an event waits for its lane's earlier tickets once their worker's heartbeat is
# gone (it stopped or died): a restart of the same worker is back within it and handles
# what it kept first. The wait counts from when the heartbeat is first seen gone, so a
# worker's drain (bot.app.DRAIN_WITHIN) is not part of it.
WAIT_UP_TO = 15.0
# Seconds an event waits for earlier tickets whose worker is alive (slow, or draining):
# generous, only a bound against a worker stuck for good.
WAIT_ALIVE_UP_TO = 120.0
_LOOK_FIRST, _LOOK_LONGEST = 0.005, 0.1  # seconds between looks: doubling, capped


class Turn(Enum):
    """Where an event stands in its lane's order."""

    FIRST = "first"  # no earlier ticket held (or its own was skipped or given back)
    BEHIND_ALIVE = "behind a live worker's"  # the earliest held ticket's worker runs
    BEHIND_GONE = "behind a gone worker's"  # ... is stopped or dead (no heartbeat)


class LaneOrder(Protocol):
    async def start(self) -> None:
        """Tell the other workers this one is alive, until :meth:`close`."""
        ...

    async def ticket(self, lane: str) -> int | None:
        """The next place in ``lane``'s order, held until :meth:`done`; None when there
        is no shared order."""
        ...

    async def first(self, lane: str, ticket: int) -> Turn:
        """FIRST when no ticket of ``lane`` before ``ticket`` is still held (also when
        ``ticket`` itself was skipped or given back); else whether the earliest held
        one's worker is alive."""
        ...

    async def skip(self, lane: str, ticket: int) -> int:
        """Stop waiting for the tickets of ``lane`` before ``ticket``; how many there were."""
        ...

    async def done(self, lane: str, tickets: list[int]) -> None:
        """These tickets are handled, or given back: later ones need not wait for them."""
        ...

    async def close(self) -> None: ...


class NoOrder:
    """One process: its intake's lanes are the whole order."""

    async def start(self) -> None:
        return None

    async def ticket(self, lane: str) -> int | None:
        return None

    async def first(self, lane: str, ticket: int) -> Turn:
        return Turn.FIRST

    async def skip(self, lane: str, ticket: int) -> int:
        return 0

    async def done(self, lane: str, tickets: list[int]) -> None:
        return None

    async def close(self) -> None:
        return None


class Turns:
    """The intake's use of a :class:`LaneOrder`: an unavailable order never stops an
    event, it only loses its place."""

    def __init__(
        self,
        order: LaneOrder,
        *,
        wait_up_to: float = WAIT_UP_TO,
        wait_alive_up_to: float = WAIT_ALIVE_UP_TO,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._order = order
        self._wait_up_to = wait_up_to
        self._wait_alive_up_to = wait_alive_up_to
        self._clock = clock
        self._sleep = sleep
        self._shared = not isinstance(order, NoOrder)
        self._placing: dict[str, tuple[asyncio.Lock, int]] = {}  # lanes: lock, users

    @contextlib.asynccontextmanager
    async def place(self, lane: str) -> AsyncIterator[int | None]:
        """A ticket in ``lane`` (None without one) for the block that journals its event.
        Two events of one lane accepted at once by this worker are journaled in their
        tickets' order (the lane would otherwise wait for a ticket queued behind it); if
        the block fails, the ticket is given back."""
        if not self._shared:  # one process: its lanes are the whole order
            yield None
            return
        lock, users = self._placing.get(lane, (asyncio.Lock(), 0))
        self._placing[lane] = (lock, users + 1)
        try:
            async with lock:
                ticket = await self._ticket(lane)
                try:
                    yield ticket
                except BaseException:  # refused (the platform sends it again)
                    await self.done(lane, [ticket] if ticket is not None else [])
                    raise
        finally:
            lock, users = self._placing[lane]
            if users > 1:
                self._placing[lane] = (lock, users - 1)
            else:
                del self._placing[lane]

    async def _ticket(self, lane: str) -> int | None:
        try:
            return await self._order.ticket(lane)
        except HandoffError as exc:
            logger.warning(
                "%s: no place in the shared order (%s); handled in this worker's", lane, exc
            )
            return None

    async def wait(self, lane: str, ticket: int | None) -> None:
        """Until the lane's earlier tickets are done: while their worker is alive, at most
        ``wait_alive_up_to`` seconds; once it is gone, at most ``wait_up_to`` more."""
        if ticket is None:
            return
        since, gone_since, delay = self._clock(), None, _LOOK_FIRST
        try:
            while (turn := await self._order.first(lane, ticket)) is not Turn.FIRST:
                now = self._clock()
                if turn is Turn.BEHIND_ALIVE:
                    gone_since = None  # back (restarted): its kept tickets come first
                    if (now - since).total_seconds() >= self._wait_alive_up_to:
                        await self._skip(lane, ticket, "their worker is alive but stuck")
                        return
                else:
                    gone_since = gone_since or now
                    if (now - gone_since).total_seconds() >= self._wait_up_to:
                        await self._skip(lane, ticket, "their worker stopped or died")
                        return
                await self._sleep(delay)
                delay = min(delay * 2, _LOOK_LONGEST)
        except HandoffError as exc:
            logger.warning("%s: handled without waiting for its turn (%s)", lane, exc)

    async def _skip(self, lane: str, ticket: int, why: str) -> None:
        skipped = await self._order.skip(lane, ticket)
        logger.warning(
            "%s: skipped %d earlier event(s) (%s; they are handled when it starts again)",
            lane,
            skipped,
            why,
        )

    async def done(self, lane: str, tickets: list[int]) -> None:
        if not tickets:
            return
        try:
            await self._order.done(lane, tickets)
        except HandoffError as exc:  # the later ones wait a while, then skip them
            logger.warning("%s: could not give back %d ticket(s): %s", lane, len(tickets), exc)
