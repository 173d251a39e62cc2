"""The order of a lane across workers: the Redis backend and the tests' in-process one
keep the same promises."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from handoff.errors import StateError
from handoff.lane_order import LaneOrder, NoOrder, Turn
from handoff.state import lane_order_from_url
from handoff.state.redis_order import GIVE_BACK_WITHIN, RedisLaneOrder
from tests.support.lane_order import MemoryLaneOrder

LANE = "chat:telegram:42"
FIRST = Turn.FIRST


class Workers:
    """Workers' orders on one Redis under a prefix of their own, closed and cleared after."""

    def __init__(self, redis_url: str) -> None:
        self.url = redis_url
        self.prefix = f"test-order-{uuid.uuid4().hex[:8]}"
        self.client = Redis.from_url(redis_url)
        self.orders: list[RedisLaneOrder] = []

    def order(self, holder: str = "worker") -> RedisLaneOrder:
        order = RedisLaneOrder.from_url(self.url, key_prefix=self.prefix, holder=holder)
        self.orders.append(order)
        return order

    async def close(self) -> None:
        for order in self.orders:
            await order.close()
        keys = [key async for key in self.client.scan_iter(f"{self.prefix}:*")]
        if keys:
            await self.client.delete(*keys)
        await self.client.aclose()


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[Workers]:
    workers = Workers(redis_url)
    try:
        yield workers
    finally:
        await workers.close()


@pytest.fixture(params=["redis", "memory"])
async def order(request: pytest.FixtureRequest, workers: Workers) -> LaneOrder:
    return MemoryLaneOrder() if request.param == "memory" else workers.order()


async def tickets(order: LaneOrder, count: int) -> list[int]:
    taken = [await order.ticket(LANE) for _ in range(count)]
    return [ticket for ticket in taken if ticket is not None]


async def test_tickets_follow_each_other_per_lane(order: LaneOrder) -> None:
    assert [await order.ticket(LANE) for _ in range(3)] == [1, 2, 3]
    assert await order.ticket("chat:telegram:43") == 1


async def test_a_ticket_is_first_once_every_earlier_one_is_done(order: LaneOrder) -> None:
    one, two, three = await tickets(order, 3)
    assert await order.first(LANE, one) is FIRST
    assert await order.first(LANE, two) is not FIRST
    await order.done(LANE, [one])
    assert await order.first(LANE, two) is FIRST
    assert await order.first(LANE, three) is not FIRST


async def test_a_ticket_done_out_of_turn_holds_nobody_up(order: LaneOrder) -> None:
    one, two, three = await tickets(order, 3)
    await order.done(LANE, [two])  # handled after a wait that ran out, say
    assert await order.first(LANE, three) is not FIRST
    await order.done(LANE, [one])
    assert await order.first(LANE, three) is FIRST


async def test_skipping_drops_only_the_earlier_tickets(order: LaneOrder) -> None:
    one, _, three = await tickets(order, 3)
    assert await order.skip(LANE, three) == 2
    assert await order.first(LANE, three) is FIRST
    assert await order.first(LANE, one) is FIRST  # its worker comes back: it is not held up either


async def test_a_redis_that_cannot_be_reached_is_a_state_error() -> None:
    order = RedisLaneOrder.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(StateError, match="taking a ticket"):
            await order.ticket(LANE)
    finally:
        await order.close()


async def test_a_worker_starts_and_stops_while_redis_cannot_be_reached() -> None:
    order = RedisLaneOrder.from_url("redis://127.0.0.1:1/0")
    await order.start()  # its heartbeat is missed (logged); nothing else
    await order.close()


async def test_one_process_keeps_no_shared_order() -> None:
    order = lane_order_from_url(None)
    assert isinstance(order, NoOrder)
    assert await order.ticket(LANE) is None


async def test_a_ticket_first_when_taken_stays_first_and_others_still_wait(
    workers: Workers,
) -> None:
    # A ticket first when taken is answered from memory; the others still ask Redis.
    order, other_worker = workers.order(), workers.order()
    one = await order.ticket(LANE)
    two = await order.ticket(LANE)  # taken behind one: Redis is asked
    kept = await other_worker.ticket("chat:telegram:43")
    three = await order.ticket("chat:telegram:43")  # behind the other worker's
    assert await order.first(LANE, one) is FIRST
    assert await order.first(LANE, two) is not FIRST
    assert await order.first("chat:telegram:43", three) is not FIRST
    await other_worker.done("chat:telegram:43", [kept])
    await other_worker.give_back()  # or with its next call, within GIVE_BACK_WITHIN
    assert await order.first("chat:telegram:43", three) is FIRST
    await order.done(LANE, [one])
    assert await order.first(LANE, two) is FIRST
    later = await order.ticket(LANE)
    other = await other_worker.ticket(LANE)
    after_other = await order.ticket(LANE)
    await order.done(LANE, [two])
    assert await order.first(LANE, later) is FIRST
    await order.done(LANE, [later])
    assert await order.first(LANE, after_other) is not FIRST  # the other worker's is still held
    await other_worker.done(LANE, [other])
    await other_worker.give_back()
    assert await order.first(LANE, after_other) is FIRST
    # A ticket handled after later ones (given back, or skipped, meanwhile) is first,
    # but says nothing about the earlier ones still held.
    kept = await other_worker.ticket("chat:telegram:44")
    mine, mine_next = (
        await order.ticket("chat:telegram:44"),
        await order.ticket("chat:telegram:44"),
    )
    await order.done("chat:telegram:44", [mine])
    assert await order.first("chat:telegram:44", mine) is FIRST
    await order.done("chat:telegram:44", [mine])
    assert await order.first("chat:telegram:44", mine_next) is not FIRST


async def test_a_ticket_behind_another_workers_says_whether_that_worker_is_alive(
    workers: Workers,
) -> None:
    order, other, again = workers.order("me"), workers.order("other"), workers.order("other")
    prefix, client = workers.prefix, workers.client
    await order.start()
    await other.start()
    kept = await other.ticket(LANE)
    mine = await order.ticket(LANE)
    assert await order.first(LANE, mine) is Turn.BEHIND_ALIVE  # draining, say
    await other.close()  # stopped after its drain, ``kept`` left in its journal
    assert await client.exists(f"{prefix}:alive:other") == 0
    assert await order.first(LANE, mine) is Turn.BEHIND_GONE
    await again.start()  # the same worker restarted: its kept ticket is its own again
    assert await order.first(LANE, mine) is Turn.BEHIND_ALIVE
    await again.done(LANE, [kept])
    await again.give_back()
    assert await order.first(LANE, mine) is FIRST
    later = await order.ticket(LANE)
    assert await order.skip(LANE, later) == 1  # ``mine``
    assert await client.hkeys(f"{prefix}:order:{LANE}:by") == [str(later).encode()]


async def test_a_ticket_from_a_worker_without_a_heartbeat_is_behind_a_gone_one(
    workers: Workers,
) -> None:
    # Taken and never started (or its heartbeat expired: killed): nothing says it is alive.
    order, dead = workers.order("me"), workers.order("dead")
    await dead.ticket(LANE)
    mine = await order.ticket(LANE)
    assert await order.first(LANE, mine) is Turn.BEHIND_GONE


async def test_handled_tickets_go_back_with_the_next_ticket(workers: Workers) -> None:
    # done() keeps them for this worker's next call: one round trip a turn fewer.
    order, other = workers.order(), workers.order("other")
    held = f"{workers.prefix}:order:{LANE}:held"
    one = await order.ticket(LANE)
    waiting = await other.ticket(LANE)
    await order.done(LANE, [one])
    assert await workers.client.zrange(held, 0, -1) == [str(one).encode(), str(waiting).encode()]
    await order.ticket("chat:telegram:7")  # another lane's: it takes them along
    assert await workers.client.zrange(held, 0, -1) == [str(waiting).encode()]
    assert await other.first(LANE, waiting) is FIRST


async def test_handled_tickets_go_back_on_their_own_and_at_the_close(workers: Workers) -> None:
    order, other = workers.order(), workers.order("other")
    one = await order.ticket(LANE)
    waiting = await other.ticket(LANE)
    await order.done(LANE, [one])
    # No next call: the timer gives them back, GIVE_BACK_WITHIN seconds later.
    for _ in range(200):  # up to 10 s on a busy machine
        await asyncio.sleep(GIVE_BACK_WITHIN)
        if await other.first(LANE, waiting) is FIRST:
            break
    else:
        pytest.fail("handled tickets never went back without a next call")
    two = await order.ticket(LANE)
    after = await other.ticket(LANE)
    await order.done(LANE, [two])
    await order.close()
    await other.done(LANE, [waiting])
    await other.give_back()
    assert await other.first(LANE, after) is FIRST
