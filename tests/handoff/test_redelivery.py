"""The redelivery loop's alarm (an injected clock, no sleeping on the test's side) and how
periodic loops stop: between rounds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handoff.redelivery import Alarm, redeliver_forever
from handoff.stopping import pause, stop_between_rounds


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


async def test_a_stop_ends_the_loop_between_rounds_and_not_in_one() -> None:
    stop = asyncio.Event()
    rounds: list[str] = []
    in_round, finish = asyncio.Event(), asyncio.Event()

    async def redeliver(older_than: timedelta) -> int:
        rounds.append("began")
        in_round.set()
        await finish.wait()
        rounds.append("ended")
        return 0

    loop = asyncio.create_task(
        redeliver_forever(redeliver, interval=3600, alarm=Alarm(), stop=stop)
    )
    async with asyncio.timeout(10):
        await in_round.wait()
        stopping = asyncio.create_task(stop_between_rounds(loop, stop))
        await asyncio.sleep(0)
        assert not stopping.done()  # the round in progress is not cut short
        finish.set()
        await stopping  # and the hour's wait after it does not hold the stop up
    assert rounds == ["began", "ended"]
    assert not loop.cancelled()


async def test_a_round_that_overruns_the_stop_is_cancelled() -> None:
    stop = asyncio.Event()
    in_round = asyncio.Event()

    async def redeliver(older_than: timedelta) -> int:
        in_round.set()
        await asyncio.Event().wait()  # never ends by itself
        return 0

    loop = asyncio.create_task(
        redeliver_forever(redeliver, interval=3600, alarm=Alarm(), stop=stop)
    )
    async with asyncio.timeout(10):
        await in_round.wait()
        await stop_between_rounds(loop, stop, within=0)
    assert loop.cancelled()


async def test_a_pause_ends_early_when_stopped() -> None:
    stop = asyncio.Event()
    stop.set()
    async with asyncio.timeout(10):
        assert await pause(stop, 3600) is True
    assert await pause(asyncio.Event(), 0) is False
