"""Each lane's order across workers in Redis (see :mod:`handoff.lane_order`).

``{prefix}:order:{lane}:next`` counts the lane's tickets (INCR); ``{prefix}:order:{lane}:held``
is a sorted set of the tickets not handled yet. Both expire a day after the lane's last
ticket, so that quiet lanes leave nothing behind. Each call is bounded by ``timeout``: a
Redis that hangs must not hold up an event's acknowledgement.

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
from collections.abc import Awaitable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.errors import StateError

T = TypeVar("T")

KEEP_FOR = 24 * 3600  # seconds a lane's keys outlive its last ticket
TIMEOUT = 2.0  # seconds

KNOWN_LANES_MAX = 10_000  # lanes remembered; past that, forgotten and Redis is asked again

# KEYS: next, held. ARGV: keep for (ms). The new ticket, held; 1 when it is the only one held.
_TICKET = """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, n)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local head = redis.call('ZRANGE', KEYS[2], 0, 0)
return {n, tonumber(head[1]) == n and 1 or 0}
"""
# KEYS: held. ARGV: ticket. 1 when nothing earlier is held; 2 when the ticket itself is not
# held (given back or skipped): first too, though earlier ones may be held.
_FIRST = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 2 end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then return 1 end
return 0
"""


class RedisLaneOrder:
    def __init__(
        self,
        *,
        redis: Redis,
        key_prefix: str = "tandem",
        owns_client: bool = False,
        timeout: float = TIMEOUT,
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._owns_client = owns_client
        self._timeout = timeout
        self._ticket = redis.register_script(_TICKET)
        self._first = redis.register_script(_FIRST)
        # Per lane: no ticket up to this one is held, now or ever again (see the module).
        self._none_held_up_to: dict[str, int] = {}

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "tandem") -> RedisLaneOrder:
        return cls(redis=Redis.from_url(url), key_prefix=key_prefix, owns_client=True)

    def _key(self, lane: str, part: str) -> str:
        return f"{self._prefix}:order:{lane}:{part}"

    async def ticket(self, lane: str) -> int:
        keys = [self._key(lane, "next"), self._key(lane, "held")]
        ticket, first = await self._call(
            "taking a ticket", self._ticket(keys=keys, args=[KEEP_FOR * 1000])
        )
        if int(first):
            self._remember(lane, int(ticket) - 1)
        return int(ticket)

    async def first(self, lane: str, ticket: int) -> bool:
        if self._none_held_up_to.get(lane) == ticket - 1:
            return True
        answer = await self._call(
            "looking at the order", self._first(keys=[self._key(lane, "held")], args=[ticket])
        )
        if answer == 1:  # not 2: a kept ticket handled after later ones proves nothing
            self._remember(lane, ticket - 1)
        return bool(answer)

    async def skip(self, lane: str, ticket: int) -> int:
        held = self._key(lane, "held")
        skipped = await self._call(
            "skipping tickets", self._redis.zremrangebyscore(held, "-inf", f"({ticket}")
        )
        return int(skipped)

    async def done(self, lane: str, tickets: list[int]) -> None:
        await self._call("giving back tickets", self._redis.zrem(self._key(lane, "held"), *tickets))
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
        if self._owns_client:
            await self._redis.aclose()

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateError(f"Redis failed while {what}: {exc or 'timed out'}") from exc
