"""The order of a lane across workers: the Redis backend and the tests' in-process one
keep the same promises."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from handoff.errors import StateError
from handoff.lane_order import LaneOrder, NoOrder
from handoff.state import lane_order_from_url
from handoff.state.redis_order import RedisLaneOrder
from tests.support.lane_order import MemoryLaneOrder

LANE = "chat:telegram:42"


@pytest.fixture(params=["redis", "memory"])
async def order(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[LaneOrder]:
    if request.param == "memory":
        yield MemoryLaneOrder()
        return
    prefix = f"test-order-{uuid.uuid4().hex[:8]}"
    order = RedisLaneOrder.from_url(redis_url, key_prefix=prefix)
    try:
        yield order
    finally:
        await order.close()
        client = Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def tickets(order: LaneOrder, count: int) -> list[int]:
    taken = [await order.ticket(LANE) for _ in range(count)]
    return [ticket for ticket in taken if ticket is not None]


async def test_tickets_follow_each_other_per_lane(order: LaneOrder) -> None:
    assert [await order.ticket(LANE) for _ in range(3)] == [1, 2, 3]
    assert await order.ticket("chat:telegram:43") == 1


async def test_a_ticket_is_first_once_every_earlier_one_is_done(order: LaneOrder) -> None:
    one, two, three = await tickets(order, 3)
    assert await order.first(LANE, one)
    assert not await order.first(LANE, two)
    await order.done(LANE, [one])
    assert await order.first(LANE, two)
    assert not await order.first(LANE, three)


async def test_a_ticket_done_out_of_turn_holds_nobody_up(order: LaneOrder) -> None:
    one, two, three = await tickets(order, 3)
    await order.done(LANE, [two])  # handled after a wait that ran out, say
    assert not await order.first(LANE, three)
    await order.done(LANE, [one])
    assert await order.first(LANE, three)


async def test_skipping_drops_only_the_earlier_tickets(order: LaneOrder) -> None:
    one, _, three = await tickets(order, 3)
    assert await order.skip(LANE, three) == 2
    assert await order.first(LANE, three)
    assert await order.first(LANE, one)  # its worker comes back: it is not held up either


async def test_a_redis_that_cannot_be_reached_is_a_state_error() -> None:
    order = RedisLaneOrder.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(StateError, match="taking a ticket"):
            await order.ticket(LANE)
    finally:
        await order.close()


async def test_one_process_keeps_no_shared_order() -> None:
    order = lane_order_from_url(None)
    assert isinstance(order, NoOrder)
    assert await order.ticket(LANE) is None


async def test_a_ticket_first_when_taken_stays_first_and_others_still_wait(
    redis_url: str,
) -> None:
    # A ticket first when taken is answered from memory; the others still ask Redis.
    prefix = f"test-order-{uuid.uuid4().hex[:8]}"
    order = RedisLaneOrder.from_url(redis_url, key_prefix=prefix)
    other_worker = RedisLaneOrder.from_url(redis_url, key_prefix=prefix)
    client = Redis.from_url(redis_url)
    try:
        one = await order.ticket(LANE)
        two = await order.ticket(LANE)  # taken behind one: Redis is asked
        kept = await other_worker.ticket("chat:telegram:43")
        three = await order.ticket("chat:telegram:43")  # behind the other worker's
        assert await order.first(LANE, one)
        assert not await order.first(LANE, two)
        assert not await order.first("chat:telegram:43", three)
        await other_worker.done("chat:telegram:43", [kept])
        assert await order.first("chat:telegram:43", three)
        await order.done(LANE, [one])
        assert await order.first(LANE, two)
        later = await order.ticket(LANE)
        other = await other_worker.ticket(LANE)
        after_other = await order.ticket(LANE)
        await order.done(LANE, [two])
        assert await order.first(LANE, later)
        await order.done(LANE, [later])
        assert not await order.first(LANE, after_other)  # the other worker's is still held
        await other_worker.done(LANE, [other])
        assert await order.first(LANE, after_other)
        # A ticket handled after later ones (given back, or skipped, meanwhile) is first,
        # but says nothing about the earlier ones still held.
        kept = await other_worker.ticket("chat:telegram:44")
        mine, mine_next = (
            await order.ticket("chat:telegram:44"),
            await order.ticket("chat:telegram:44"),
        )
        await order.done("chat:telegram:44", [mine])
        assert await order.first("chat:telegram:44", mine)
        await order.done("chat:telegram:44", [mine])
        assert not await order.first("chat:telegram:44", mine_next)
    finally:
        await order.close()
        await other_worker.close()
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
