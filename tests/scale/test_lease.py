"""Periodic work of one worker at a time: the lease on Redis shared by two workers (taken,
renewed, refused to the other, given up, taken over when its holder stops renewing), and
the wrapper that does the work only while the lease is held."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from handoff.lease import REDELIVERY, RETENTION, SoleLease, give_up_all, leased
from handoff.state import lease_from_url
from handoff.state.redis_lease import RedisLease


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[tuple[RedisLease, RedisLease]]:
    prefix = f"test-lease-{uuid.uuid4().hex[:8]}"
    first = RedisLease.from_url(redis_url, key_prefix=prefix)
    second = RedisLease.from_url(redis_url, key_prefix=prefix)
    yield first, second
    for worker in (first, second):
        await give_up_all(worker)
        await worker.close()


async def test_one_worker_holds_the_lease_until_it_gives_it_up(
    workers: tuple[RedisLease, RedisLease],
) -> None:
    first, second = workers
    assert await first.take(REDELIVERY, ttl=60)
    assert not await second.take(REDELIVERY, ttl=60)
    assert await first.take(REDELIVERY, ttl=60)  # renewed
    assert await first.holder(REDELIVERY) == first.token
    assert await second.take(RETENTION, ttl=60)  # another lease, another holder
    await second.give_up(REDELIVERY)  # not its own: nothing happens
    assert await first.holder(REDELIVERY) == first.token
    await first.give_up(REDELIVERY)
    assert await second.take(REDELIVERY, ttl=60)


async def test_a_lease_whose_holder_died_is_taken_over(
    workers: tuple[RedisLease, RedisLease],
) -> None:
    first, second = workers
    assert await first.take(REDELIVERY, ttl=0.05)  # then the first worker never renews it
    for _ in range(250):  # Redis expires it within milliseconds; up to 5 s allowed
        if await second.take(REDELIVERY, ttl=60):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the lease of a worker that stopped renewing was never taken over")
    assert await second.holder(REDELIVERY) == second.token
    assert not await first.take(REDELIVERY, ttl=60)


class Turns:
    """A lease granted on the turns the test says."""

    def __init__(self, *turns: bool) -> None:
        self.turns = list(turns)

    async def take(self, name: str, *, ttl: float) -> bool:
        return self.turns.pop(0)

    async def give_up(self, name: str) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_the_work_is_done_only_while_the_lease_is_held() -> None:
    done: list[int] = []

    async def work(n: int) -> int:
        done.append(n)
        return n

    run = leased(work, lease=Turns(True, False, True), name=REDELIVERY, ttl=10)
    assert [await run(1), await run(2), await run(3)] == [1, 0, 3]
    assert done == [1, 3]


async def test_one_process_alone_holds_every_lease() -> None:
    lease = lease_from_url(None)
    assert isinstance(lease, SoleLease)
    assert await lease.take(REDELIVERY, ttl=1)
