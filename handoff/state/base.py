"""The live-state port: what every worker must agree on while a conversation is active.

SQL is the record; a :class:`LiveState` is the fast shared copy read on every message. It
holds each active conversation's :class:`~handoff.model.LiveConversation`, a mutual-exclusion
lock per conversation and de-duplication tokens that expire.

Read-modify-write is done under :meth:`LiveState.lock`, not by an ``update`` primitive::

    async with state.lock(key):
        current = await state.get(key)
        await state.put(key, replace(current, failed_turns=current.failed_turns + 1))

One lock serves every change a message causes (mode, counters, the reply sent), which an
atomic single-value update could not cover.
"""

from __future__ import annotations

import math
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from handoff.model import ConversationKey, LiveConversation

# How long lock() waits by default. Long enough for a holder that is calling the NLU or a
# chat API; short enough that a stuck handler surfaces as LockTimeout instead of a pile-up.
DEFAULT_LOCK_TIMEOUT = 120.0


class LiveState(Protocol):
    """Shared live state of active conversations; implemented in memory and on Redis."""

    async def get(self, key: ConversationKey) -> LiveConversation | None:
        """The conversation's live state, or ``None`` when none is stored."""
        ...

    async def put(self, key: ConversationKey, value: LiveConversation) -> None:
        """Store ``value``; last writer wins, so read-modify-write belongs under :meth:`lock`."""
        ...

    async def delete(self, key: ConversationKey) -> None:
        """Forget the conversation's live state; deleting a missing entry is not an error."""
        ...

    def lock(
        self, key: ConversationKey, *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold the conversation's lock for the ``async with`` block.

        Excludes every other holder of the same key: other tasks in memory, other processes
        on Redis. Locks on different keys are independent. The lock is not re-entrant: a task
        that already holds it and asks again waits for itself until the timeout.

        ``timeout`` is how many seconds to wait for the lock; ``None`` means the backend's
        configured default (:data:`DEFAULT_LOCK_TIMEOUT` unless changed) and ``0`` means a
        single attempt. Raises :class:`~handoff.errors.LockTimeout` when not acquired in
        time. The lock is released when the block exits, also by an exception.
        """
        ...

    async def first_time(self, token: str, *, ttl: float) -> bool:
        """``True`` the first time ``token`` is seen within ``ttl`` seconds, else ``False``.

        Atomic: among concurrent callers with the same token exactly one gets ``True``.
        """
        ...

    async def ping(self) -> None:
        """Raise :class:`~handoff.errors.StateError` when the store cannot be reached."""
        ...

    async def close(self) -> None:
        """Release the resources the store owns."""
        ...


def check_ttl(ttl: float) -> float:
    """Reject expiry times that cannot mean anything: zero, negative, NaN or infinite."""
    if not (math.isfinite(ttl) and ttl > 0):
        raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
    return ttl


def check_lock_timeout(timeout: float | None) -> float | None:
    """Reject negative or NaN lock waits; ``None`` waits indefinitely."""
    if timeout is not None and not timeout >= 0:
        raise ValueError(f"lock timeout must be >= 0 seconds or None, got {timeout!r}")
    return timeout
