"""Live state on Redis, shared by every worker process that uses the same server and prefix."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.errors import LockTimeout, StateError
from handoff.model import ConversationKey, LiveConversation
from handoff.state import codec, holding
from handoff.state.base import DEFAULT_LOCK_TIMEOUT, check_lock_timeout, check_ttl
from handoff.state.holding import Holding
from handoff.state.keys import RedisKeyBuilder
from handoff.state.redis_client import redis_from_url

logger = logging.getLogger(__name__)

# A held lock expires this long after its last renewal, so a crashed worker blocks its
# conversations for at most this long. Holders renew it every third of the lease.
DEFAULT_LOCK_LEASE = 10.0
# How often a waiter retries a held lock; redis-py's lock polls, it is not notified.
DEFAULT_LOCK_POLL_INTERVAL = 0.05


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn the client's errors into :class:`StateError`, once, at this boundary."""
    try:
        yield
    except (RedisError, OSError) as exc:  # OSError: socket failures redis-py lets through
        raise StateError(f"Redis failed while {action}: {exc}") from exc


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisLiveState:
    """Live state in Redis, for several worker processes (or machines).

    The client is injected so the application can share one connection pool; the state
    closes it only when it created it (:meth:`from_url`) or ``owns_client`` is true.
    """

    def __init__(
        self,
        *,
        redis: Redis,
        key_prefix: str = "tandem",
        conversation_ttl: float | None = None,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        lock_lease: float = DEFAULT_LOCK_LEASE,
        lock_poll_interval: float = DEFAULT_LOCK_POLL_INTERVAL,
        owns_client: bool = False,
    ) -> None:
        self._redis = redis
        self._keys = RedisKeyBuilder(prefix=key_prefix)
        # Optional safety net: entries of conversations nobody writes to any more (a worker
        # died before deleting them) disappear this long after their last put.
        self._conversation_ttl = None if conversation_ttl is None else check_ttl(conversation_ttl)
        self._lock_timeout = check_lock_timeout(lock_timeout)
        self._lock_lease = check_ttl(lock_lease)
        self._lock_poll_interval = check_ttl(lock_poll_interval)
        self._owns_client = owns_client
        self._take = redis.register_script(holding.TAKE)
        self._release_script = redis.register_script(holding.RELEASE)
        self._renew_script = redis.register_script(holding.RENEW)
        # The locks this state holds, by holder task and conversation: what the holder
        # reads and writes of its conversation goes through them (see handoff.state.holding).
        self._held: dict[tuple[asyncio.Task[object] | None, str], Holding] = {}
        self._renewing: asyncio.Task[None] | None = None  # one renewer for all of them

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = "tandem",
        conversation_ttl: float | None = None,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        lock_lease: float = DEFAULT_LOCK_LEASE,
        lock_poll_interval: float = DEFAULT_LOCK_POLL_INTERVAL,
    ) -> RedisLiveState:
        """A state with its own client for ``url`` (``redis://``, ``rediss://``, ``unix://``).

        Connecting is lazy: an unreachable server shows at the first call, e.g. :meth:`ping`.
        """
        return cls(
            redis=redis_from_url(url),
            key_prefix=key_prefix,
            conversation_ttl=conversation_ttl,
            lock_timeout=lock_timeout,
            lock_lease=lock_lease,
            lock_poll_interval=lock_poll_interval,
            owns_client=True,
        )

    @property
    def keys(self) -> RedisKeyBuilder:
        """The names of the keys this state reads and writes."""
        return self._keys

    async def get(self, key: ConversationKey) -> LiveConversation | None:
        held = self._holding(key)
        if held is not None:
            return held.get()
        with _translated(f"reading {key}"):
            raw = await self._redis.get(self._keys.conversation(key))
        return None if raw is None else codec.decode(raw)

    async def put(self, key: ConversationKey, value: LiveConversation) -> None:
        held = self._holding(key)
        if held is not None:
            held.put(value)  # written when the lock is released
            return
        ttl = self._conversation_ttl
        with _translated(f"writing {key}"):
            await self._redis.set(
                self._keys.conversation(key),
                codec.encode(value),
                px=None if ttl is None else _milliseconds(ttl),
            )

    async def delete(self, key: ConversationKey) -> None:
        held = self._holding(key)
        if held is not None:
            held.delete()
            return
        with _translated(f"deleting {key}"):
            await self._redis.delete(self._keys.conversation(key))

    def lock(
        self, key: ConversationKey, *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        wait = self._lock_timeout if timeout is None else check_lock_timeout(timeout)
        return self._hold(key, wait)

    def _holding(self, key: ConversationKey) -> Holding | None:
        if not self._held:
            return None
        return self._held.get((asyncio.current_task(), self._keys.conversation(key)))

    @asynccontextmanager
    async def _hold(self, key: ConversationKey, wait: float | None) -> AsyncIterator[None]:
        held = await self._acquire(key, wait)
        logger.debug("Acquired the lock for %s", key)
        place = (asyncio.current_task(), held.conversation)
        self._held[place] = held
        self._keep_renewing()
        completed = False
        try:
            yield
            completed = True
        finally:
            del self._held[place]
            await self._release(held, key, raise_errors=completed)

    async def _acquire(self, key: ConversationKey, wait: float | None) -> Holding:
        """Take the lock (and read the conversation), polling while another holds it."""
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        names = [self._keys.lock(key), self._keys.conversation(key)]
        # The lease frees the lock of a crashed worker. It is also what frees a lock whose
        # acquisition was cancelled after Redis granted it but before we knew.
        token, lease = uuid.uuid4().hex, _milliseconds(self._lock_lease)
        while True:
            with _translated(f"acquiring the lock for {key}"):
                taken = await self._take(keys=names, args=[token, lease])
            if taken[0] == 1:
                stored = taken[1] if len(taken) > 1 else None
                return Holding(lock=names[0], conversation=names[1], token=token, stored=stored)
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise LockTimeout(f"lock for {key} not acquired within {wait:g} s")
            # Polled, not notified: what redis-py's lock does too.
            await asyncio.sleep(
                self._lock_poll_interval if left is None else min(left, self._lock_poll_interval)
            )

    def _keep_renewing(self) -> None:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name="renew Redis locks")

    async def _renew(self) -> None:
        """Keep the leases of every held lock alive, however long their holders take: one
        timer for all of them, not one per message."""
        while self._held:
            await asyncio.sleep(self._lock_lease / 3)
            lease = _milliseconds(self._lock_lease)
            for held in list(self._held.values()):
                if held.lost:
                    continue
                try:
                    renewed = await self._renew_script(keys=[held.lock], args=[held.token, lease])
                except (RedisError, OSError) as exc:
                    # Keep trying: the lease outlives two failed renewals.
                    logger.warning("Could not renew the lock %s: %s", held.lock, exc)
                    continue
                if not renewed and any(h is held for h in self._held.values()):
                    held.lost = True
                    logger.error("Lost the lock %s: its lease ran out before renewal", held.lock)

    async def _release(self, held: Holding, key: ConversationKey, *, raise_errors: bool) -> None:
        """Write what the holder put and release the lock, at once; a failure is raised
        only when the block itself succeeded.

        When the block raised, its exception says more than a failed release, so the
        release failure is logged and the block's exception propagates.
        """
        ttl = "" if self._conversation_ttl is None else str(_milliseconds(self._conversation_ttl))
        try:
            released = await self._release_script(
                keys=[held.lock, held.conversation],
                args=[held.token, held.write, held.written(), ttl],
            )
        except (RedisError, OSError) as exc:
            if raise_errors:
                raise StateError(f"Redis failed while releasing the lock for {key}: {exc}") from exc
            logger.exception("Could not release the lock for %s", key)
            return
        if not released:
            message = (
                f"the lock for {key} expired before it was released; "
                "another worker may have held it at the same time"
            )
            if raise_errors:
                raise StateError(message)
            logger.error("Releasing: %s", message)
        else:
            logger.debug("Released the lock for %s", key)

    async def first_time(self, token: str, *, ttl: float) -> bool:
        # SET NX is atomic on the server: exactly one of concurrent callers creates the key.
        with _translated(f"recording token {token!r}"):
            created = await self._redis.set(
                self._keys.once(token), 1, nx=True, px=_milliseconds(check_ttl(ttl))
            )
        return bool(created)

    async def ping(self) -> None:
        with _translated("pinging"):
            await self._redis.ping()

    async def close(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
        if self._owns_client:
            with _translated("closing the connection"):
                await self._redis.aclose()
