"""Each lane's order across workers in Redis (see :mod:`handoff.lane_order`).

``{prefix}:order:{lane}:next`` counts the lane's tickets (INCR); ``{prefix}:order:{lane}:held``
is a sorted set of the tickets not handled yet, and ``{prefix}:order:{lane}:by`` a hash of
each held ticket's holder (the worker that took it). All expire a day after the lane's last
ticket, so that quiet lanes leave nothing behind. Each worker, from :meth:`RedisLaneOrder.start`
to its close, keeps ``{prefix}:alive:{holder}`` (expiring after ``ALIVE_FOR``, refreshed every
``BEAT_EVERY``): a waiting event tells a live worker (slow, draining) from a gone one.
Each call is bounded by ``timeout``: a Redis that hangs must not hold up an event's
acknowledgement.

Tickets only grow and a ticket given back is never held again, so once no ticket up to n
of a lane is held, none ever is. Each process remembers that n per lane, from what it was
told (a ticket first when taken, a "first" answer) and what it gave back itself (n + 1 after
n), and answers :meth:`RedisLaneOrder.first` for ticket n + 1 without asking Redis: in the
usual case, one worker handling a chat's messages one after the other, one round trip an
event fewer (of five a customer turn makes to Redis). A lane quiet for a day starts its
tickets again from 1; the first answer about it after that replaces what was remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.errors import StateError
from handoff.lane_order import Turn
from handoff.state.redis_client import redis_from_url

T = TypeVar("T")

logger = logging.getLogger(__name__)

KEEP_FOR = 24 * 3600  # seconds a lane's keys outlive its last ticket
TIMEOUT = 2.0  # seconds
# A worker's heartbeat: alive for ALIVE_FOR seconds after each beat; three beats a period,
# so that one slow round trip does not make it look gone.
ALIVE_FOR, BEAT_EVERY = 5.0, 1.5

KNOWN_LANES_MAX = 10_000  # lanes remembered; past that, forgotten and Redis is asked again

# KEYS: next, held, by. ARGV: keep for (ms), holder. The new ticket, held by the holder;
# 1 when it is the only one held.
_TICKET = """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, n)
redis.call('HSET', KEYS[3], n, ARGV[2])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
local head = redis.call('ZRANGE', KEYS[2], 0, 0)
return {n, tonumber(head[1]) == n and 1 or 0}
"""
# KEYS: held, by. ARGV: ticket, the heartbeats' key prefix. 1 when nothing earlier is held;
# 2 when the ticket itself is not held (given back or skipped): first too, though earlier
# ones may be held; else 3 when the earliest held ticket's holder is alive, 0 when not.
# (The heartbeat's key is not among KEYS: one Redis, not a cluster.)
_FIRST = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 2 end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then return 1 end
local holder = redis.call('HGET', KEYS[2], head[1])
if holder and redis.call('EXISTS', ARGV[2] .. holder) == 1 then return 3 end
return 0
"""
# KEYS: held, by. ARGV: tickets. Given back: no longer held, nor their holders kept.
_DONE = """
redis.call('ZREM', KEYS[1], unpack(ARGV))
redis.call('HDEL', KEYS[2], unpack(ARGV))
"""
# KEYS: held, by. ARGV: ticket. Drops the tickets before it; how many there were.
_SKIP = """
local earlier = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if #earlier == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(earlier))
redis.call('HDEL', KEYS[2], unpack(earlier))
return #earlier
"""
_TURNS = {0: Turn.BEHIND_GONE, 1: Turn.FIRST, 2: Turn.FIRST, 3: Turn.BEHIND_ALIVE}


class RedisLaneOrder:
    def __init__(
        self,
        *,
        redis: Redis,
        key_prefix: str = "tandem",
        holder: str = "worker",
        owns_client: bool = False,
        timeout: float = TIMEOUT,
        alive_for: float = ALIVE_FOR,
        beat_every: float = BEAT_EVERY,
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._holder = holder
        self._alive_for, self._beat_every = alive_for, beat_every
        self._beating: asyncio.Task[None] | None = None
        self._beat_failing = False
        self._owns_client = owns_client
        self._timeout = timeout
        self._ticket = redis.register_script(_TICKET)
        self._first = redis.register_script(_FIRST)
        self._done = redis.register_script(_DONE)
        self._skip = redis.register_script(_SKIP)
        # Per lane: no ticket up to this one is held, now or ever again (see the module).
        self._none_held_up_to: dict[str, int] = {}

    @classmethod
    def from_url(
        cls, url: str, *, key_prefix: str = "tandem", holder: str = "worker"
    ) -> RedisLaneOrder:
        return cls(
            redis=redis_from_url(url), key_prefix=key_prefix, holder=holder, owns_client=True
        )

    def _key(self, lane: str, part: str) -> str:
        return f"{self._prefix}:order:{lane}:{part}"

    def _alive_key(self, holder: str = "") -> str:
        return f"{self._prefix}:alive:{holder}"

    async def start(self) -> None:
        if self._beating is None:
            await self._beat_once()  # alive before its first ticket
            self._beating = asyncio.create_task(self._beat(), name="lane-order-heartbeat")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._beat_every)
            await self._beat_once()

    async def _beat_once(self) -> None:
        alive = self._redis.set(self._alive_key(self._holder), 1, px=int(self._alive_for * 1000))
        try:
            await self._call("beating", alive)
        except StateError as exc:  # the others see this worker gone a while: no harm
            if not self._beat_failing:  # once an outage, not every beat
                logger.warning("lane order heartbeat: %s", exc)
            self._beat_failing = True
        else:
            self._beat_failing = False

    async def ticket(self, lane: str) -> int:
        keys = [self._key(lane, "next"), self._key(lane, "held"), self._key(lane, "by")]
        ticket, first = await self._call(
            "taking a ticket", self._ticket(keys=keys, args=[KEEP_FOR * 1000, self._holder])
        )
        if int(first):
            self._remember(lane, int(ticket) - 1)
        return int(ticket)

    async def first(self, lane: str, ticket: int) -> Turn:
        if self._none_held_up_to.get(lane) == ticket - 1:
            return Turn.FIRST
        keys = [self._key(lane, "held"), self._key(lane, "by")]
        answer = await self._call(
            "looking at the order", self._first(keys=keys, args=[ticket, self._alive_key()])
        )
        if answer == 1:  # not 2: a kept ticket handled after later ones proves nothing
            self._remember(lane, ticket - 1)
        return _TURNS[int(answer)]

    async def skip(self, lane: str, ticket: int) -> int:
        keys = [self._key(lane, "held"), self._key(lane, "by")]
        skipped = await self._call("skipping tickets", self._skip(keys=keys, args=[ticket]))
        return int(skipped)

    async def done(self, lane: str, tickets: list[int]) -> None:
        keys = [self._key(lane, "held"), self._key(lane, "by")]
        await self._call("giving back tickets", self._done(keys=keys, args=tickets))
        known = self._none_held_up_to.get(lane)
        if known is not None:
            given_back = set(tickets)
            while known + 1 in given_back:
                known += 1
            self._none_held_up_to[lane] = known

    def _remember(self, lane: str, none_held_up_to: int) -> None:
        if lane not in self._none_held_up_to and len(self._none_held_up_to) >= KNOWN_LANES_MAX:
            self._none_held_up_to.clear()
        self._none_held_up_to[lane] = none_held_up_to

    async def close(self) -> None:
        """After the drain: this worker's kept tickets are now waited for a short time
        only (see handoff.lane_order)."""
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
            self._beating = None
            with contextlib.suppress(StateError):
                await self._call(
                    "saying goodbye", self._redis.delete(self._alive_key(self._holder))
                )
        if self._owns_client:
            await self._redis.aclose()

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateError(f"Redis failed while {what}: {exc or 'timed out'}") from exc
