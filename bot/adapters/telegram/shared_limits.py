"""Telegram's flood limits kept for every worker on one Redis: each send takes its chat's
next slot and then the bot's next slot from Redis (on Redis's clock), so N workers send
no more than one worker would: about one message a second per chat and 30 a second per
bot (``telegram.limits``).

If Redis cannot be reached, the worker paces on its own (:class:`.limiter.SendLimiter`)
rather than not send; the service is in an outage then anyway, and Telegram's 429s are
still waited out.
"""

from __future__ import annotations

import asyncio
import logging
import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.state.redis_client import redis_from_url

from .limiter import SendLimiter, SendLimits

logger = logging.getLogger(__name__)

_RETAKES = 3  # slots a send takes at most when it keeps waking too late for them

# KEYS[1]: the schedule's key. ARGV[1]: the interval in seconds. Returns the seconds to
# wait for the slot taken, as a string (Redis would truncate a Lua number).
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local keep = math.ceil((slot + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', keep)
return tostring(slot - now)
"""


class SharedSendLimiter(SendLimiter):
    """A :class:`.limiter.SendLimiter` whose slots are shared through Redis."""

    def __init__(self, *, limits: SendLimits, redis: Redis, key_prefix: str = "tandem") -> None:
        super().__init__(limits=limits)
        self._redis = redis
        self._prefix = key_prefix
        self._take = redis.register_script(_TAKE_SLOT)

    @classmethod
    def from_url(cls, url: str, *, limits: SendLimits, key_prefix: str) -> SharedSendLimiter:
        return cls(limits=limits, redis=redis_from_url(url), key_prefix=key_prefix)

    async def wait_turn(self, chat_id: int) -> None:
        try:
            chat = await self._slot(f"chat:{chat_id}", self._chat_interval)
            await asyncio.sleep(max(chat, self.held_for(chat_id)))
            await self._bot_turn()
        except (RedisError, OSError) as exc:
            logger.warning("pacing Telegram sends in this worker alone (Redis: %s)", exc)
            await super().wait_turn(chat_id)

    async def close(self) -> None:
        await self._redis.aclose()

    async def _bot_turn(self) -> None:
        """The bot's next slot, taken again when this worker woke too late for it: an
        event loop held up (a busy host, a long pause) would otherwise send the messages
        of several slots at once, above the limit, while the other workers keep theirs."""
        loop = asyncio.get_running_loop()
        for _ in range(_RETAKES):
            asked = loop.time()
            wait = await self._slot("bot", self._overall_interval)
            await asyncio.sleep(wait)
            if loop.time() - (asked + wait) <= self._overall_interval / 2:
                return
        # Late every time: send anyway rather than never; Telegram's 429 is waited out.

    async def _slot(self, name: str, interval: float) -> float:
        if interval <= 0 or not math.isfinite(interval):
            return 0.0
        answer = await self._take(keys=[f"{self._prefix}:tg-pace:{name}"], args=[repr(interval)])
        return float(answer.decode() if isinstance(answer, bytes) else answer)
