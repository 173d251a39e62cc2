"""Redis-only behaviour: several workers, key layout, leases, tolerant decoding, failures."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from handoff.errors import LockTimeout, StateError
from handoff.model import ConversationKey, LiveConversation, Mode
from handoff.state import InMemoryLiveState, RedisKeyBuilder, RedisLiveState, live_state_from_url
from handoff.state.redis_client import redis_from_url
from tests.state.conftest import RedisStateFactory
from tests.support.redis_server import RedisServer

KEY = ConversationKey(channel="telegram", chat_id="123")
UNREACHABLE_URL = "redis://127.0.0.1:1"


async def test_two_workers_share_state(make_redis_state: RedisStateFactory) -> None:
    first, second = make_redis_state(), make_redis_state()

    await first.put(KEY, LiveConversation(conversation_id=1, mode=Mode.HUMAN))
    assert await second.get(KEY) == LiveConversation(conversation_id=1, mode=Mode.HUMAN)

    await second.delete(KEY)
    assert await first.get(KEY) is None


async def test_two_workers_share_locks(make_redis_state: RedisStateFactory) -> None:
    first, second = make_redis_state(), make_redis_state()

    async with first.lock(KEY):
        with pytest.raises(LockTimeout):
            async with second.lock(KEY, timeout=0.1):
                pytest.fail("a second worker acquired a held lock")

    async with second.lock(KEY, timeout=0):
        pass


async def test_two_workers_serialize_read_modify_write(
    make_redis_state: RedisStateFactory,
) -> None:
    workers = [make_redis_state(), make_redis_state()]
    await workers[0].put(KEY, LiveConversation(conversation_id=1))

    async def increment(state: RedisLiveState) -> None:
        for _ in range(25):
            async with state.lock(KEY):
                current = await state.get(KEY)
                assert current is not None
                await asyncio.sleep(0)
                await state.put(KEY, replace(current, failed_turns=current.failed_turns + 1))

    await asyncio.gather(*(increment(worker) for worker in workers))

    final = await workers[1].get(KEY)
    assert final is not None
    assert final.failed_turns == 50


async def test_two_workers_share_deduplication(make_redis_state: RedisStateFactory) -> None:
    first, second = make_redis_state(), make_redis_state()

    assert await first.first_time("update:1", ttl=60) is True
    assert await second.first_time("update:1", ttl=60) is False


async def test_key_layout(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state()
    await state.put(KEY, LiveConversation(conversation_id=1))
    await state.first_time("update:1", ttl=60)

    async with state.lock(KEY):
        assert await redis_client.exists(f"{redis_prefix}:lock:telegram:123") == 1

    assert await redis_client.exists(f"{redis_prefix}:lock:telegram:123") == 0
    assert await redis_client.exists(f"{redis_prefix}:conv:telegram:123") == 1
    assert await redis_client.pttl(f"{redis_prefix}:conv:telegram:123") == -1  # no ttl
    assert 0 < await redis_client.pttl(f"{redis_prefix}:once:update:1") <= 60_000


def test_key_builder() -> None:
    keys = RedisKeyBuilder()

    assert keys.conversation(KEY) == "tandem:conv:telegram:123"
    assert keys.lock(KEY) == "tandem:lock:telegram:123"
    assert keys.once("telegram:update:9") == "tandem:once:telegram:update:9"
    assert RedisKeyBuilder(prefix="staging").conversation(KEY) == "staging:conv:telegram:123"
    with pytest.raises(ValueError, match="prefix"):
        RedisKeyBuilder(prefix="")


async def test_conversation_ttl(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state(conversation_ttl=60)

    await state.put(KEY, LiveConversation(conversation_id=1))

    assert 0 < await redis_client.pttl(f"{redis_prefix}:conv:telegram:123") <= 60_000


async def test_lease_is_renewed_while_held(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    holder, other = make_redis_state(lock_lease=0.3), make_redis_state()

    async with holder.lock(KEY):
        await asyncio.sleep(1.0)  # more than three leases
        with pytest.raises(LockTimeout):
            async with other.lock(KEY, timeout=0):
                pytest.fail("the lease ran out while the lock was held")
        assert 0 < await redis_client.pttl(f"{redis_prefix}:lock:telegram:123") <= 300


async def test_lock_of_a_crashed_worker_expires(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    # A worker that died while holding the lock leaves its key with the lease it last had.
    await redis_client.set(f"{redis_prefix}:lock:telegram:123", "dead-worker", px=300)
    state = make_redis_state()

    with pytest.raises(LockTimeout):
        async with state.lock(KEY, timeout=0):
            pass
    async with state.lock(KEY, timeout=5):
        pass


async def test_losing_the_lock_is_reported(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state()

    with pytest.raises(StateError, match="expired before it was released"):
        async with state.lock(KEY):
            await redis_client.delete(f"{redis_prefix}:lock:telegram:123")


async def test_losing_the_lock_does_not_hide_the_blocks_error(
    make_redis_state: RedisStateFactory,
    redis_client: Redis,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = make_redis_state()

    async def lose_the_lock_then_fail() -> None:
        async with state.lock(KEY):
            await redis_client.delete(f"{redis_prefix}:lock:telegram:123")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await lose_the_lock_then_fail()
    assert "expired before it was released" in caplog.text


async def test_stored_entry_with_unknown_fields_is_read(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state()
    stored = {"conversation_id": 5, "mode": "waiting", "handoff_id": 9, "added_later": [1]}
    await redis_client.set(f"{redis_prefix}:conv:telegram:123", json.dumps(stored))

    assert await state.get(KEY) == LiveConversation(
        conversation_id=5, mode=Mode.WAITING, handoff_id=9
    )


async def test_stored_entry_with_missing_fields_takes_defaults(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state()
    await redis_client.set(f"{redis_prefix}:conv:telegram:123", '{"conversation_id": 5}')

    assert await state.get(KEY) == LiveConversation(conversation_id=5)


async def test_unusable_stored_entry_raises_state_error(
    make_redis_state: RedisStateFactory, redis_client: Redis, redis_prefix: str
) -> None:
    state = make_redis_state()
    await redis_client.set(f"{redis_prefix}:conv:telegram:123", "not json")

    with pytest.raises(StateError, match="not JSON"):
        await state.get(KEY)


async def test_state_works_with_a_decoding_client(
    redis_url: str, redis_client: Redis, redis_prefix: str
) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    state = RedisLiveState(redis=client, key_prefix=redis_prefix, lock_poll_interval=0.005)
    try:
        await state.put(KEY, LiveConversation(conversation_id=1, mode=Mode.CLOSED))
        assert await state.get(KEY) == LiveConversation(conversation_id=1, mode=Mode.CLOSED)
        async with state.lock(KEY):
            pass
        assert await state.first_time("update:1", ttl=60) is True
    finally:
        await client.aclose()


async def test_injected_client_is_not_closed(redis_client: Redis, redis_prefix: str) -> None:
    state = RedisLiveState(redis=redis_client, key_prefix=redis_prefix)

    await state.close()

    assert await redis_client.ping() is True


async def test_unreachable_server_raises_state_error() -> None:
    state = RedisLiveState.from_url(UNREACHABLE_URL)
    try:
        with pytest.raises(StateError, match="pinging"):
            await state.ping()
        with pytest.raises(StateError, match="reading telegram:123"):
            await state.get(KEY)
        with pytest.raises(StateError):
            await state.put(KEY, LiveConversation(conversation_id=1))
        with pytest.raises(StateError):
            await state.delete(KEY)
        with pytest.raises(StateError):
            await state.first_time("update:1", ttl=60)
        with pytest.raises(StateError) as raised:
            async with state.lock(KEY, timeout=1):
                pytest.fail("acquired a lock without a server")
        assert not isinstance(raised.value, LockTimeout)
    finally:
        await state.close()


async def test_live_state_from_url(redis_url: str, redis_prefix: str) -> None:
    assert isinstance(live_state_from_url(None), InMemoryLiveState)
    assert isinstance(live_state_from_url(""), InMemoryLiveState)

    state = live_state_from_url(redis_url, key_prefix=redis_prefix)
    try:
        assert isinstance(state, RedisLiveState)
        assert state.keys.prefix == redis_prefix
        await state.ping()
    finally:
        await state.close()


def test_rejects_meaningless_options() -> None:
    client = Redis()  # never connects: constructing fails first
    with pytest.raises(ValueError, match="ttl"):
        RedisLiveState(redis=client, conversation_ttl=0)
    with pytest.raises(ValueError, match="ttl"):
        RedisLiveState(redis=client, lock_lease=-1)
    with pytest.raises(ValueError, match="timeout"):
        RedisLiveState(redis=client, lock_timeout=-1)


async def test_a_unix_socket_url_works_as_a_tcp_one(tmp_path: Path) -> None:
    # REDIS_URL=unix:///path/to/redis.sock: no TCP on the way (cheaper per round trip).
    log, socket = tmp_path / "redis.log", tmp_path / "redis.sock"
    async with RedisServer(log=log, unix_socket=socket) as server:
        for url in (server.url, server.unix_url):
            state = live_state_from_url(url, key_prefix="unix-test")
            try:
                async with state.lock(KEY):
                    await state.put(KEY, LiveConversation(conversation_id=7))
                assert await state.get(KEY) == LiveConversation(conversation_id=7)
                await state.delete(KEY)
            finally:
                await state.close()


def test_clients_bound_sends_in_the_calling_task() -> None:
    # redis-py's own connections send through asyncio.wait_for: a task per command on
    # Python 3.11. Every URL form gets a connection that does not.
    for url in ("redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "unix:///nowhere.sock"):
        connection_class = redis_from_url(url).connection_pool.connection_class
        assert connection_class.send_packed_command is not (
            AbstractConnection.send_packed_command
        ), url
