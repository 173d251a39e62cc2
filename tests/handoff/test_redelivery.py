"""The redelivery loop's alarm: an injected clock, no sleeping on the test's side."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handoff.redelivery import Alarm, redeliver_forever


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_alarm_that_is_due_rings_at_once_and_only_once() -> None:
    clock = Clock()
    alarm = Alarm(clock)
    alarm.ring_in(5)
    clock.now += 5
    assert await alarm.wait(longest=0) is True
    assert await alarm.wait(longest=0) is False  # rung: not due any more


async def test_the_earliest_alarm_wins() -> None:
    clock = Clock()
    alarm = Alarm(clock)
    alarm.ring_in(60)
    alarm.ring_in(2)
    alarm.ring_in(30)
    clock.now += 2
    assert await alarm.wait(longest=0) is True


async def test_a_ring_while_waiting_wakes_the_loop_which_then_looks_at_everything() -> None:
    alarm = Alarm()
    asked: list[timedelta] = []
    first, second = asyncio.Event(), asyncio.Event()

    async def redeliver(older_than: timedelta) -> int:
        asked.append(older_than)
        (first if len(asked) == 1 else second).set()
        return 0

    loop = asyncio.create_task(redeliver_forever(redeliver, interval=3600, alarm=alarm))
    try:
        async with asyncio.timeout(10):
            await first.wait()
            alarm.ring_in(0)
            await second.wait()
    finally:
        loop.cancel()
    assert asked == [timedelta(hours=1), timedelta(0)]
