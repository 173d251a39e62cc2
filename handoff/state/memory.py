"""In-process live state: the embedded default when a single process runs the bot."""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from handoff.errors import LockTimeout
from handoff.model import ConversationKey, LiveConversation
from handoff.state.base import DEFAULT_LOCK_TIMEOUT, check_lock_timeout, check_ttl

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _KeyLock:
    """A conversation's lock and how many tasks hold it or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class InMemoryLiveState:
    """Live state in this process's memory, shared by its asyncio tasks.

    Nothing is shared with other processes and nothing survives a restart: run more than
    one worker only with :class:`~handoff.state.redis.RedisLiveState`.
    """

    def __init__(
        self,
        *,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock_timeout = check_lock_timeout(lock_timeout)
        self._clock = clock  # monotonic, so expiry survives wall-clock changes
        self._conversations: dict[ConversationKey, LiveConversation] = {}
        # Only keys that someone holds or waits for have an entry; the last user removes it,
        # so the table stays as small as the number of busy conversations.
        self._locks: dict[ConversationKey, _KeyLock] = {}
        # token -> expiry, plus a heap of (expiry, token) so expired tokens are purged
        # oldest-first without scanning every token on every call.
        self._seen: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []

    async def get(self, key: ConversationKey) -> LiveConversation | None:
        return self._conversations.get(key)

    async def put(self, key: ConversationKey, value: LiveConversation) -> None:
        self._conversations[key] = value  # values are frozen, so sharing them is safe

    async def delete(self, key: ConversationKey) -> None:
        self._conversations.pop(key, None)

    def lock(
        self, key: ConversationKey, *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        wait = self._lock_timeout if timeout is None else check_lock_timeout(timeout)
        return self._hold(key, wait)

    @asynccontextmanager
    async def _hold(self, key: ConversationKey, wait: float | None) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock()
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(wait):
                    await entry.lock.acquire()
            except TimeoutError as exc:
                raise LockTimeout(f"lock for {key} not acquired within {wait:g} s") from exc
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]

    async def first_time(self, token: str, *, ttl: float) -> bool:
        # No await in here, so check-and-set is atomic with respect to other tasks.
        now = self._clock()
        self._purge(now)
        if token in self._seen:
            return False
        expires = now + check_ttl(ttl)
        self._seen[token] = expires
        heapq.heappush(self._expiries, (expires, token))
        return True

    def _purge(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expires, token = heapq.heappop(self._expiries)
            if self._seen.get(token) == expires:
                del self._seen[token]

    async def ping(self) -> None:
        """Always reachable: the state lives in this process."""

    async def close(self) -> None:
        """Nothing to release; the state is garbage-collected with the object."""
