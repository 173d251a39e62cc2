"""Live state: the fast shared copy of active conversations, in memory or on Redis.

Workers pick a backend with :func:`live_state_from_url`; code depends on :class:`LiveState`.
"""

from __future__ import annotations

from handoff.state.base import DEFAULT_LOCK_TIMEOUT, LiveState
from handoff.state.keys import RedisKeyBuilder
from handoff.state.memory import InMemoryLiveState
from handoff.state.redis import RedisLiveState

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "InMemoryLiveState",
    "LiveState",
    "RedisKeyBuilder",
    "RedisLiveState",
    "live_state_from_url",
]


def live_state_from_url(
    url: str | None,
    *,
    key_prefix: str = "tandem",
    conversation_ttl: float | None = None,
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
) -> LiveState:
    """Redis live state for ``url``; in-memory when ``url`` is ``None`` or empty.

    ``key_prefix`` and ``conversation_ttl`` only concern Redis and are ignored in memory.
    Nothing connects here: call :meth:`LiveState.ping` at start-up to fail early.
    """
    if not url:
        return InMemoryLiveState(lock_timeout=lock_timeout)
    return RedisLiveState.from_url(
        url,
        key_prefix=key_prefix,
        conversation_ttl=conversation_ttl,
        lock_timeout=lock_timeout,
    )
