"""In-memory-only behaviour: memory stays bounded by what is in use."""

from __future__ import annotations

import asyncio

import pytest

from handoff.errors import LockTimeout
from handoff.model import ConversationKey
from handoff.state import InMemoryLiveState

KEYS = [ConversationKey(channel="telegram", chat_id=str(n)) for n in range(10)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_lock_table_does_not_grow() -> None:
    state = InMemoryLiveState()

    for key in KEYS:
        async with state.lock(key):
            assert key in state._locks
    with pytest.raises(RuntimeError):
        async with state.lock(KEYS[0]):
            raise RuntimeError

    assert state._locks == {}


async def test_lock_table_is_cleaned_after_timeouts_and_cancelled_waits() -> None:
    state = InMemoryLiveState()
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with state.lock(KEYS[0]):
            held.set()
            await release.wait()

    async def wait_forever() -> None:
        async with state.lock(KEYS[0], timeout=60):
            pass

    holder = asyncio.create_task(hold())
    await held.wait()
    with pytest.raises(LockTimeout):
        async with state.lock(KEYS[0], timeout=0.01):
            pass
    waiter = asyncio.create_task(wait_forever())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert state._locks[KEYS[0]].users == 1  # only the holder is left
    release.set()
    await holder

    assert state._locks == {}


async def test_default_lock_timeout_is_configurable() -> None:
    state = InMemoryLiveState(lock_timeout=0.01)

    async with state.lock(KEYS[0]):
        with pytest.raises(LockTimeout):
            async with state.lock(KEYS[0]):
                pass


async def test_expired_tokens_are_purged() -> None:
    clock = FakeClock()
    state = InMemoryLiveState(clock=clock)
    for n in range(100):
        assert await state.first_time(f"update:{n}", ttl=10) is True
    assert await state.first_time("long-lived", ttl=60) is True

    clock.now += 10
    assert await state.first_time("update:0", ttl=10) is True

    assert set(state._seen) == {"update:0", "long-lived"}
    assert len(state._expiries) == 2


async def test_tokens_live_exactly_their_ttl() -> None:
    clock = FakeClock()
    state = InMemoryLiveState(clock=clock)
    assert await state.first_time("update:1", ttl=10) is True

    clock.now += 9.999
    assert await state.first_time("update:1", ttl=10) is False
    clock.now += 0.001
    assert await state.first_time("update:1", ttl=10) is True
