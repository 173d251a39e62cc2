"""Leases in Redis (see :mod:`handoff.lease`): ``{prefix}:lease:{name}`` holds the token of
the worker that has it, and expires ``ttl`` after its last renewal."""

from __future__ import annotations

import math
import os
import socket
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.errors import StateError
from handoff.state.redis_client import redis_from_url

# Renew if ours, take if free; 1 if ours afterwards.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """This worker's leases; its token names the host and process, for an operator who
    looks at the key."""

    def __init__(self, *, redis: Redis, key_prefix: str = "tandem", owns_client: bool = False):
        self._redis = redis
        self._prefix = key_prefix
        self._owns_client = owns_client
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._take = redis.register_script(_TAKE)
        self._give_up = redis.register_script(_GIVE_UP)

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "tandem") -> RedisLease:
        return cls(redis=redis_from_url(url), key_prefix=key_prefix, owns_client=True)

    def key(self, name: str) -> str:
        return f"{self._prefix}:lease:{name}"

    async def take(self, name: str, *, ttl: float) -> bool:
        milliseconds = str(max(1, math.ceil(ttl * 1000)))
        try:
            held = await self._take(keys=[self.key(name)], args=[self.token, milliseconds])
        except (RedisError, OSError) as exc:
            raise StateError(f"Redis failed while taking the {name} lease: {exc}") from exc
        return bool(held)

    async def give_up(self, name: str) -> None:
        try:
            await self._give_up(keys=[self.key(name)], args=[self.token])
        except (RedisError, OSError) as exc:
            raise StateError(f"Redis failed while giving up the {name} lease: {exc}") from exc

    async def holder(self, name: str) -> str | None:
        """The token of the worker holding ``name``, if one does."""
        try:
            value = await self._redis.get(self.key(name))
        except (RedisError, OSError) as exc:
            raise StateError(f"Redis failed while reading the {name} lease: {exc}") from exc
        return None if value is None else value.decode() if isinstance(value, bytes) else value

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()
