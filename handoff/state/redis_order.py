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

Handled tickets are given back with the worker's next call (its next ticket, of any lane,
usually a moment later), or ``GIVE_BACK_WITHIN`` seconds after :meth:`RedisLaneOrder.done`
when none comes, or before it asks Redis about the order: a customer turn makes three round
trips to Redis, not four.
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

# A handled ticket is given back with this worker's next Redis call (its next ticket, most
# often a moment later), or this many seconds after it was handled when none comes: one
# round trip a customer turn fewer (of four), for a later event of the lane held by another
# worker a few milliseconds later at most (its looks are 5 to 100 ms apart anyway).
GIVE_BACK_WITHIN = 0.05


def _giving_back(first_key: int, first_arg: int) -> str:
    """Lua giving back tickets: KEYS from ``first_key`` on are each lane's held and by;
    ARGV from ``first_arg`` on, per lane, how many tickets and the tickets."""
    return f"""
local at = {first_arg}
for k = {first_key}, #KEYS, 2 do
    local count = tonumber(ARGV[at])
    local given = {{unpack(ARGV, at + 1, at + count)}}
    redis.call('ZREM', KEYS[k], unpack(given))
    redis.call('HDEL', KEYS[k + 1], unpack(given))
    at = at + count + 1
end
"""


# KEYS: next, held, by, then lanes giving back (see _giving_back). ARGV: keep for (ms),
# holder, then what is given back. The new ticket, held by the holder; 1 when it is the only
# one held.
_TICKET = (
    _giving_back(4, 3)
    + """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, n)
redis.call('HSET', KEYS[3], n, ARGV[2])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
local head = redis.call('ZRANGE', KEYS[2], 0, 0)
return {n, tonumber(head[1]) == n and 1 or 0}
"""
)
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
# Given back: no longer held, nor their holders kept.
_DONE = _giving_back(1, 1)
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
        # Per lane: tickets handled, given back with the next call (see GIVE_BACK_WITHIN).
        self._handled: dict[str, list[int]] = {}
        self._give_back_timer: asyncio.TimerHandle | None = None
        self._giving_back: asyncio.Task[None] | None = None

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
            if self._handled:  # kept by a give-back that failed
                await self.give_back()
        except StateError as exc:  # the others see this worker gone a while: no harm
            if not self._beat_failing:  # once an outage, not every beat
                logger.warning("lane order heartbeat: %s", exc)
            self._beat_failing = True
        else:
            self._beat_failing = False

    async def ticket(self, lane: str) -> int:
        keys = [self._key(lane, "next"), self._key(lane, "held"), self._key(lane, "by")]
        handled, more_keys, more_args = self._take_handled()
        try:
            ticket, first = await self._call(
                "taking a ticket",
                self._ticket(
                    keys=keys + more_keys, args=[KEEP_FOR * 1000, self._holder, *more_args]
                ),
            )
        except StateError:
            self._keep_handled(handled)
            raise
        if int(first):
            self._remember(lane, int(ticket) - 1)
        return int(ticket)

    async def first(self, lane: str, ticket: int) -> Turn:
        if self._none_held_up_to.get(lane) == ticket - 1:
            return Turn.FIRST
        if self._handled:  # or Redis would see this worker's handled tickets still held
            await self.give_back()
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
        """Given back with this worker's next call, within GIVE_BACK_WITHIN seconds."""
        self._handled.setdefault(lane, []).extend(tickets)
        if self._give_back_timer is None:
            loop = asyncio.get_running_loop()
            self._give_back_timer = loop.call_later(GIVE_BACK_WITHIN, self._give_back_soon)
        known = self._none_held_up_to.get(lane)
        if known is not None:
            given_back = set(tickets)
            while known + 1 in given_back:
                known += 1
            self._none_held_up_to[lane] = known

    async def give_back(self) -> None:
        """Give back at once the tickets :meth:`done` keeps for the next call; if Redis
        fails, they are kept for the next one (the heartbeat's, at the latest)."""
        handled, keys, args = self._take_handled()
        if not handled:
            return
        try:
            await self._call("giving back tickets", self._done(keys=keys, args=args))
        except StateError:
            self._keep_handled(handled)
            raise

    def _give_back_soon(self) -> None:
        self._give_back_timer = None
        if self._handled and (self._giving_back is None or self._giving_back.done()):
            self._giving_back = asyncio.create_task(self._give_back_logged())

    async def _give_back_logged(self) -> None:
        try:
            await self.give_back()
        except StateError as exc:  # the later ones wait a while, then skip them
            logger.warning("could not give back handled tickets: %s", exc)

    def _take_handled(self) -> tuple[dict[str, list[int]], list[str], list[int]]:
        """What is to be given back, now taken: by lane, and as the scripts' KEYS and ARGV."""
        handled, self._handled = self._handled, {}
        if self._give_back_timer is not None:
            self._give_back_timer.cancel()
            self._give_back_timer = None
        keys: list[str] = []
        args: list[int] = []
        for lane, tickets in handled.items():
            keys += [self._key(lane, "held"), self._key(lane, "by")]
            args += [len(tickets), *tickets]
        return handled, keys, args

    def _keep_handled(self, handled: dict[str, list[int]]) -> None:
        for lane, tickets in handled.items():
            self._handled.setdefault(lane, []).extend(tickets)

    def _remember(self, lane: str, none_held_up_to: int) -> None:
        if lane not in self._none_held_up_to and len(self._none_held_up_to) >= KNOWN_LANES_MAX:
            self._none_held_up_to.clear()
        self._none_held_up_to[lane] = none_held_up_to

    async def close(self) -> None:
        """After the drain: this worker's kept tickets are now waited for a short time
        only (see handoff.lane_order)."""
        with contextlib.suppress(StateError):
            await self.give_back()
        if self._giving_back is not None:
            await asyncio.gather(self._giving_back, return_exceptions=True)
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
