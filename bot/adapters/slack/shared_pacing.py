"""The pace of Slack posts shared by every worker on one Redis (see :mod:`.pacing`).

One hash per channel holds its schedule (``tat``) and the slots reserved for threads; a
Lua script reads and moves it atomically, on Redis's clock, so that workers on several
machines keep one schedule. The hash expires after a quiet spell.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.errors import DeliveryError
from handoff.state.redis_client import redis_from_url

from .pacing import STALE_AFTER, PacingPolicy

IDLE_EXPIRY_MS = 600_000  # a channel's schedule is dropped after 10 quiet minutes

# KEYS[1]: the channel's hash. ARGV: holder, wait_up_to, interval, burst, stale_after,
# hold_off (seconds; acquire when empty), expiry ms. Returns the seconds as a string
# (Redis would truncate a Lua number to an integer).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if ARGV[6] ~= '' then
  local until_ = now + tonumber(ARGV[6]) + (burst - 1) * interval
  if until_ > tat then redis.call('HSET', KEYS[1], 'tat', tostring(until_)) end
  return '0'
end
local field = 'r:' .. ARGV[1]
local wait_up_to = tonumber(ARGV[2])
local reserved = tonumber(redis.call('HGET', KEYS[1], field) or '')
if reserved and reserved >= now - tonumber(ARGV[5]) then
  if reserved - now <= wait_up_to then redis.call('HDEL', KEYS[1], field) end
  return tostring(math.max(0, reserved - now))
end
local slot = math.max(now, tat - (burst - 1) * interval)
redis.call('HSET', KEYS[1], 'tat', tostring(math.max(tat, slot) + interval))
if slot - now > wait_up_to then redis.call('HSET', KEYS[1], field, tostring(slot)) end
return tostring(slot - now)
"""


class RedisPacer:
    """A :class:`~.pacing.ChannelPacer` on Redis; keys ``{prefix}:slack-pace:{channel}``."""

    def __init__(self, *, redis: Redis, policy: PacingPolicy, key_prefix: str = "tandem") -> None:
        self._redis = redis
        self._policy = policy
        self._prefix = key_prefix
        self._script = redis.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, policy: PacingPolicy, key_prefix: str) -> RedisPacer:
        return cls(redis=redis_from_url(url), policy=policy, key_prefix=key_prefix)

    async def acquire(self, channel: str, holder: str, *, wait_up_to: float) -> float:
        return await self._run(channel, holder, wait_up_to, "")

    async def hold_off(self, channel: str, seconds: float) -> None:
        await self._run(channel, "", 0.0, repr(max(0.0, seconds)))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _run(self, channel: str, holder: str, wait_up_to: float, hold: str) -> float:
        policy = self._policy
        args = [
            holder,
            repr(wait_up_to),
            repr(policy.interval),
            str(policy.burst),
            repr(STALE_AFTER),
            hold,
            str(IDLE_EXPIRY_MS),
        ]
        try:
            answer = await self._script(keys=[f"{self._prefix}:slack-pace:{channel}"], args=args)
        except (RedisError, OSError) as exc:
            # Slack is not told anything: the message stays pending and is tried again.
            raise DeliveryError(f"could not pace Slack posts through Redis: {exc}") from exc
        return float(answer.decode() if isinstance(answer, bytes) else answer)
