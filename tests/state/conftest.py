"""Backends for the live-state tests.

``state`` is parametrized indirectly (``"memory"`` or ``"redis"``) so one contract-test
class runs against every backend. Redis tests use a unique key prefix, remove their keys
afterwards and fail, never skip, when the server is unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.state import InMemoryLiveState, LiveState, RedisLiveState
from tests.conftest import REDIS_URL_VARIABLE

BACKENDS = ["memory", "redis"]

RedisStateFactory = Callable[..., RedisLiveState]


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test Redis server, proven reachable."""
    client = Redis.from_url(redis_url)
    problem: str | None = None
    try:
        await client.ping()
    except RedisError as exc:
        problem = str(exc)
    if problem is not None:  # failed outside the except block to keep the report short
        await client.aclose()
        pytest.fail(
            f"Redis is unreachable at {redis_url} ({problem}). Start it, or point "
            f"{REDIS_URL_VARIABLE} at a server the tests may write to.",
            pytrace=False,
        )
    yield client
    await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards (never FLUSHDB)."""
    prefix = f"tandem-test-{uuid.uuid4().hex}"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture
async def make_redis_state(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStateFactory]:
    """Makes Redis states under the test's prefix, each with its own client (= a worker)."""
    made: list[RedisLiveState] = []

    def make(**options: Any) -> RedisLiveState:
        # Waiters poll a held lock; a short interval keeps the contention tests quick.
        options.setdefault("lock_poll_interval", 0.005)
        state = RedisLiveState.from_url(redis_url, key_prefix=redis_prefix, **options)
        made.append(state)
        return state

    yield make
    for state in made:
        await state.close()


@pytest.fixture
def state(request: pytest.FixtureRequest) -> LiveState:
    """The backend named by the indirect parameter."""
    backend: str = request.param
    if backend == "memory":
        return InMemoryLiveState()
    if backend == "redis":
        request.getfixturevalue("redis_client")  # fails clearly when Redis is unreachable
        factory: RedisStateFactory = request.getfixturevalue("make_redis_state")
        return factory()
    raise ValueError(f"unknown live-state backend {backend!r}")
