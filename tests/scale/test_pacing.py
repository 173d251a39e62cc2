"""The pace of Slack posts per channel: the in-process schedule with an injected clock, and
the same rules on Redis shared by two pacers (two workers)."""

from __future__ import annotations

import math
import uuid

import pytest
from redis.asyncio import Redis

from bot.adapters.slack.pacing import STALE_AFTER, MemoryPacer, PacingPolicy, next_slot
from bot.adapters.slack.shared_pacing import RedisPacer

POLICY = PacingPolicy(per_second=1.0, burst=2, wait_up_to=0.25)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_one_slot_per_interval() -> None:
    tat, slots = 0.0, []
    for _ in range(4):
        slot, tat = next_slot(tat, 10.0, POLICY)
        slots.append(slot)
    assert slots == [10.0, 10.0, 11.0, 12.0]


def test_the_policy_refuses_nonsense() -> None:
    for bad in ({"per_second": 0}, {"per_second": math.inf}, {"burst": 0}, {"wait_up_to": -1}):
        with pytest.raises(ValueError, match="pacing: expected"):
            PacingPolicy(**bad)


async def test_a_thread_whose_turn_is_far_keeps_it_and_gets_it_when_due() -> None:
    clock = Clock()
    pacer = MemoryPacer(POLICY, clock=clock)
    assert await pacer.acquire("C1", "own:1", wait_up_to=math.inf) == 0.0
    assert await pacer.acquire("C1", "own:2", wait_up_to=math.inf) == 0.0
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 1.0  # kept for T1
    assert await pacer.acquire("C1", "T2", wait_up_to=0.25) == 2.0  # behind it
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 1.0  # the same turn again
    clock.now += 1.0
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 0.0  # taken now
    # Taken: T1's next message queues behind T2.
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 2.0
    assert await pacer.acquire("C2", "T9", wait_up_to=0.25) == 0.0  # channels are apart


async def test_a_near_turn_is_the_callers_to_wait_for() -> None:
    clock = Clock()
    pacer = MemoryPacer(PacingPolicy(per_second=5.0, burst=1), clock=clock)
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 0.0
    assert await pacer.acquire("C1", "T2", wait_up_to=0.25) == pytest.approx(0.2)
    assert await pacer.acquire("C1", "T2", wait_up_to=0.25) == pytest.approx(0.4)  # not kept


async def test_a_rate_limit_from_slack_moves_every_turn_past_it() -> None:
    clock = Clock()
    pacer = MemoryPacer(POLICY, clock=clock)
    await pacer.hold_off("C1", 30.0)
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 30.0
    assert await pacer.acquire("C1", "own:1", wait_up_to=math.inf) == 31.0


async def test_a_turn_never_claimed_is_forgotten() -> None:
    clock = Clock()
    pacer = MemoryPacer(POLICY, clock=clock)
    for holder in ("a", "b", "T1"):
        await pacer.acquire("C1", holder, wait_up_to=0.0)
    clock.now += STALE_AFTER + 10
    assert await pacer.acquire("C1", "T1", wait_up_to=0.25) == 0.0  # a fresh turn


async def test_two_workers_share_one_schedule_through_redis(redis_url: str) -> None:
    prefix = f"test-pace-{uuid.uuid4().hex[:8]}"
    slow = PacingPolicy(per_second=0.01, burst=2, wait_up_to=0.25)  # 100 s apart
    first = RedisPacer.from_url(redis_url, policy=slow, key_prefix=prefix)
    second = RedisPacer.from_url(redis_url, policy=slow, key_prefix=prefix)
    try:
        assert await first.acquire("C1", "own:1", wait_up_to=math.inf) == 0.0
        assert await second.acquire("C1", "T1", wait_up_to=0.25) == 0.0  # the burst
        kept = await second.acquire("C1", "T2", wait_up_to=0.25)
        assert 99.0 < kept <= 100.0  # the other worker's posts count
        again = await first.acquire("C1", "T2", wait_up_to=0.25)
        assert 99.0 < again <= kept  # the turn kept for T2, whichever worker asks
        behind = await first.acquire("C1", "T3", wait_up_to=0.25)
        assert 199.0 < behind <= 200.0
        await second.hold_off("C2", 500.0)
        assert 499.0 < await first.acquire("C2", "T1", wait_up_to=0.25) <= 500.0
    finally:
        client = Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await first.close()
        await second.close()
