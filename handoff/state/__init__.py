"""Live state: the fast shared copy of active conversations, in memory or on Redis.

Workers pick a backend with :func:`live_state_from_url`; code depends on :class:`LiveState`.
The backends are imported when asked for, so that the core, which needs only the port,
loads no Redis client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff.lane_order import LaneOrder, NoOrder
from handoff.lease import Lease, SoleLease
from handoff.state.base import DEFAULT_LOCK_TIMEOUT, LiveState

if TYPE_CHECKING:
    from handoff.state.keys import RedisKeyBuilder
    from handoff.state.memory import InMemoryLiveState
    from handoff.state.redis import RedisLiveState

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "InMemoryLiveState",
    "LiveState",
    "RedisKeyBuilder",
    "RedisLiveState",
    "lane_order_from_url",
    "lease_from_url",
    "live_state_from_url",
]

_LAZY = {
    "InMemoryLiveState": "handoff.state.memory",
    "RedisKeyBuilder": "handoff.state.keys",
    "RedisLiveState": "handoff.state.redis",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - imported on first use, see the module docstring

    return getattr(importlib.import_module(module), name)


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
        from handoff.state.memory import InMemoryLiveState  # noqa: PLC0415

        return InMemoryLiveState(lock_timeout=lock_timeout)
    from handoff.state.redis import RedisLiveState  # noqa: PLC0415

    return RedisLiveState.from_url(
        url,
        key_prefix=key_prefix,
        conversation_ttl=conversation_ttl,
        lock_timeout=lock_timeout,
    )


def lease_from_url(url: str | None, *, key_prefix: str = "tandem") -> Lease:
    """Leases in Redis for ``url`` (several workers); with no ``url``, one process holds
    them all."""
    if not url:
        return SoleLease()
    from handoff.state.redis_lease import RedisLease  # noqa: PLC0415

    return RedisLease.from_url(url, key_prefix=key_prefix)


def lane_order_from_url(
    url: str | None, *, key_prefix: str = "tandem", holder: str = "worker"
) -> LaneOrder:
    """Each lane's order across workers in Redis for ``url``, this worker's tickets held
    as ``holder`` (the same across its restarts); with no ``url``, one process's intake
    keeps it alone."""
    if not url:
        return NoOrder()
    from handoff.state.redis_order import RedisLaneOrder  # noqa: PLC0415

    return RedisLaneOrder.from_url(url, key_prefix=key_prefix, holder=holder)
