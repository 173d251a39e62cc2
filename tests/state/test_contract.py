"""The behaviour every live-state backend promises, run against each of them."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from handoff.errors import LockTimeout
from handoff.model import ConversationKey, LiveConversation, Mode
from handoff.state import LiveState
from tests.state.conftest import BACKENDS

KEY = ConversationKey(channel="telegram", chat_id="123")
OTHER = ConversationKey(channel="telegram", chat_id="456")


async def hold_lock(
    state: LiveState, key: ConversationKey, held: asyncio.Event, release: asyncio.Event
) -> None:
    """Hold ``key``'s lock from when ``held`` is set until ``release`` is set."""
    async with state.lock(key):
        held.set()
        await release.wait()


@pytest.mark.parametrize("state", BACKENDS, indirect=True)
class TestLiveStateContract:
    async def test_get_missing_is_none(self, state: LiveState) -> None:
        assert await state.get(KEY) is None

    async def test_put_get_round_trips_every_field(self, state: LiveState) -> None:
        value = LiveConversation(
            conversation_id=42,
            mode=Mode.HUMAN,
            failed_turns=3,
            last_answered_intent="ask_refund",
            handoff_id=7,
        )
        await state.put(KEY, value)

        stored = await state.get(KEY)

        assert stored == value
        assert stored is not None
        assert type(stored.mode) is Mode

    async def test_defaults_round_trip(self, state: LiveState) -> None:
        await state.put(KEY, LiveConversation(conversation_id=1))

        assert await state.get(KEY) == LiveConversation(conversation_id=1)

    async def test_put_replaces(self, state: LiveState) -> None:
        await state.put(KEY, LiveConversation(conversation_id=1))
        await state.put(KEY, LiveConversation(conversation_id=1, mode=Mode.WAITING))

        assert await state.get(KEY) == LiveConversation(conversation_id=1, mode=Mode.WAITING)

    async def test_delete(self, state: LiveState) -> None:
        await state.put(KEY, LiveConversation(conversation_id=1))

        await state.delete(KEY)

        assert await state.get(KEY) is None

    async def test_delete_missing_is_not_an_error(self, state: LiveState) -> None:
        await state.delete(KEY)

    async def test_conversations_are_isolated(self, state: LiveState) -> None:
        same_chat_other_channel = ConversationKey(channel="whatsapp", chat_id=KEY.chat_id)
        await state.put(KEY, LiveConversation(conversation_id=1))
        await state.put(OTHER, LiveConversation(conversation_id=2))

        await state.delete(OTHER)

        assert await state.get(KEY) == LiveConversation(conversation_id=1)
        assert await state.get(OTHER) is None
        assert await state.get(same_chat_other_channel) is None

    async def test_lock_serializes_read_modify_write(self, state: LiveState) -> None:
        await state.put(KEY, LiveConversation(conversation_id=1))
        inside = 0

        async def increment(times: int) -> None:
            nonlocal inside
            for _ in range(times):
                async with state.lock(KEY):
                    inside += 1
                    assert inside == 1, "two holders inside the lock at once"
                    current = await state.get(KEY)
                    assert current is not None
                    await asyncio.sleep(0)  # invite the other task to interleave
                    await state.put(KEY, replace(current, failed_turns=current.failed_turns + 1))
                    inside -= 1

        await asyncio.gather(increment(50), increment(50))

        final = await state.get(KEY)
        assert final is not None
        assert final.failed_turns == 100

    async def test_lock_times_out(self, state: LiveState) -> None:
        held, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(state, KEY, held, release))
        await held.wait()
        try:
            with pytest.raises(LockTimeout, match="telegram:123"):
                async with state.lock(KEY, timeout=0.1):
                    pytest.fail("acquired a lock that another task holds")
            with pytest.raises(LockTimeout):
                async with state.lock(KEY, timeout=0):
                    pytest.fail("acquired a lock that another task holds")
        finally:
            release.set()
            await holder

        async with state.lock(KEY, timeout=1):
            pass

    async def test_waiter_gets_the_lock_when_released(self, state: LiveState) -> None:
        held, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(state, KEY, held, release))
        await held.wait()

        async def acquire() -> None:
            async with state.lock(KEY, timeout=5):
                pass

        waiter = asyncio.create_task(acquire())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        release.set()
        await asyncio.gather(holder, waiter)

    async def test_lock_is_released_on_exception(self, state: LiveState) -> None:
        with pytest.raises(RuntimeError, match="boom"):
            async with state.lock(KEY):
                raise RuntimeError("boom")

        async with state.lock(KEY, timeout=0):
            pass

    async def test_lock_is_released_on_cancellation(self, state: LiveState) -> None:
        held = asyncio.Event()
        holder = asyncio.create_task(hold_lock(state, KEY, held, asyncio.Event()))
        await held.wait()

        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder

        async with state.lock(KEY, timeout=0):
            pass

    async def test_different_keys_do_not_block_each_other(self, state: LiveState) -> None:
        held, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(state, KEY, held, release))
        await held.wait()
        try:
            async with state.lock(OTHER, timeout=0):
                pass
        finally:
            release.set()
            await holder

    async def test_first_time_then_repeat(self, state: LiveState) -> None:
        assert await state.first_time("update:1", ttl=60) is True
        assert await state.first_time("update:1", ttl=60) is False
        assert await state.first_time("update:1", ttl=60) is False

    async def test_first_time_expires_after_ttl(self, state: LiveState) -> None:
        assert await state.first_time("update:1", ttl=0.2) is True

        await asyncio.sleep(0.35)

        assert await state.first_time("update:1", ttl=0.2) is True
        assert await state.first_time("update:1", ttl=0.2) is False

    async def test_distinct_tokens_are_independent(self, state: LiveState) -> None:
        assert await state.first_time("update:1", ttl=60) is True
        assert await state.first_time("update:2", ttl=60) is True
        assert await state.first_time("update:1", ttl=60) is False
        assert await state.first_time("update:2", ttl=60) is False

    async def test_concurrent_first_time_has_one_winner(self, state: LiveState) -> None:
        results = await asyncio.gather(*(state.first_time("update:1", ttl=60) for _ in range(20)))

        assert results.count(True) == 1

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
    async def test_first_time_rejects_meaningless_ttl(self, state: LiveState, ttl: float) -> None:
        with pytest.raises(ValueError, match="ttl"):
            await state.first_time("update:1", ttl=ttl)

    async def test_lock_rejects_negative_timeout(self, state: LiveState) -> None:
        with pytest.raises(ValueError, match="timeout"):
            state.lock(KEY, timeout=-1)

    async def test_ping_and_close(self, state: LiveState) -> None:
        await state.ping()
        await state.close()
