"""Live state on Redis, shared by every worker process that uses the same server and prefix."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError, RedisError

from handoff.errors import LockTimeout, StateError
from handoff.model import ConversationKey, LiveConversation
from handoff.state import codec
from handoff.state.base import DEFAULT_LOCK_TIMEOUT, check_lock_timeout, check_ttl
from handoff.state.keys import RedisKeyBuilder

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
            redis=Redis.from_url(url),
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
        with _translated(f"reading {key}"):
            raw = await self._redis.get(self._keys.conversation(key))
        return None if raw is None else codec.decode(raw)

    async def put(self, key: ConversationKey, value: LiveConversation) -> None:
        ttl = self._conversation_ttl
        with _translated(f"writing {key}"):
            await self._redis.set(
                self._keys.conversation(key),
                codec.encode(value),
                px=None if ttl is None else _milliseconds(ttl),
            )

    async def delete(self, key: ConversationKey) -> None:
        with _translated(f"deleting {key}"):
            await self._redis.delete(self._keys.conversation(key))

    def lock(
        self, key: ConversationKey, *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        wait = self._lock_timeout if timeout is None else check_lock_timeout(timeout)
        return self._hold(key, wait)

    @asynccontextmanager
    async def _hold(self, key: ConversationKey, wait: float | None) -> AsyncIterator[None]:
        lock = self._redis.lock(
            self._keys.lock(key),
            # The lease frees the lock of a crashed worker. It is also what frees a lock
            # whose acquisition was cancelled after Redis granted it but before we knew.
            timeout=self._lock_lease,
            sleep=self._lock_poll_interval,
            blocking_timeout=wait,
            # A fresh Lock per acquisition, used by one task: a thread-local token would
            # only add a way to lose it.
            thread_local=False,
        )
        with _translated(f"acquiring the lock for {key}"):
            acquired = await lock.acquire()
        if not acquired:
            raise LockTimeout(f"lock for {key} not acquired within {wait:g} s")
        logger.debug("Acquired the lock for %s", key)
        renewal = asyncio.create_task(self._renew(lock, key), name=f"renew lock {key}")
        completed = False
        try:
            yield
            completed = True
        finally:
            # Stop renewing first so a renewal cannot race the release.
            renewal.cancel()
            try:
                await self._release(lock, key, raise_errors=completed)
            finally:
                await asyncio.wait([renewal])

    async def _renew(self, lock: Lock, key: ConversationKey) -> None:
        """Keep the lease alive while the block runs, however long it takes."""
        while True:
            await asyncio.sleep(self._lock_lease / 3)
            try:
                await lock.reacquire()
            except LockNotOwnedError:
                logger.exception("Lost the lock for %s: its lease ran out before renewal", key)
                return
            except (RedisError, OSError) as exc:
                # Keep trying: the lease outlives two failed renewals.
                logger.warning("Could not renew the lock for %s: %s", key, exc)

    async def _release(self, lock: Lock, key: ConversationKey, *, raise_errors: bool) -> None:
        """Release the lock; a failure is raised only when the block itself succeeded.

        When the block raised, its exception says more than a failed release, so the
        release failure is logged and the block's exception propagates.
        """
        try:
            await lock.release()
        except LockNotOwnedError as exc:
            message = (
                f"the lock for {key} expired before it was released; "
                "another worker may have held it at the same time"
            )
            if raise_errors:
                raise StateError(message) from exc
            logger.exception("Releasing: %s", message)
        except (RedisError, OSError) as exc:
            if raise_errors:
                raise StateError(f"Redis failed while releasing the lock for {key}: {exc}") from exc
            logger.exception("Could not release the lock for %s", key)
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
        if self._owns_client:
            with _translated("closing the connection"):
                await self._redis.aclose()
