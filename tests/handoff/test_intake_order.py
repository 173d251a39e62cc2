"""Several workers' intakes keep one order per lane (handoff.lane_order): two intakes with
their own journal files share the tests' in-process order, as workers share Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio

from handoff.agent_texts import load_agent_texts
from handoff.intake import Backoff, Handlers, Intake
from handoff.lane_order import WAIT_ALIVE_UP_TO
from handoff.model import Inbound
from handoff.storage.journal import SqliteJournal
from tests.handoff.test_intake import REPO, RESPONSES, Agents, NotifyingChannel, Outage, message
from tests.support.fakes import RecordingDesk
from tests.support.lane_order import MemoryLaneOrder

WAIT = 15.0  # order_wait


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Customers:
    """Shared by every worker: what was handled, in the order it was, and texts held."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.held: dict[str, asyncio.Event] = {}
        self.waiting = asyncio.Event()  # set when a held text's handling starts
        self.changed = asyncio.Event()  # set at every text handled

    async def handle(self, inbound: Inbound) -> None:
        text = inbound.text or ""
        if text in self.held:
            self.waiting.set()
            await self.held[text].wait()
        self.handled.append(text)
        self.changed.set()

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        return True


class Workers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.order = MemoryLaneOrder()
        self.customers = Customers()
        self.clock = Clock()
        self.running: list[tuple[Intake, SqliteJournal]] = []

    async def start(self) -> Intake:
        journal = SqliteJournal.open(self.folder)
        intake = Intake(
            journal=journal,
            responses=RESPONSES,
            texts=load_agent_texts(REPO / "config" / "agents.yml"),
            notice_after=3600,
            backoff=Backoff(first=0.001, longest=0.001),
            clock=self.clock,
            sleep=self._sleep,
            order=self.order,
            order_wait=WAIT,
        )
        await intake.load()
        handlers = Handlers(
            customers=self.customers,
            agents=Agents(Outage()),
            channel=NotifyingChannel(),
            desk=RecordingDesk(),
        )
        intake.run(handlers)
        self.running.append((intake, journal))
        return intake

    async def stop(self, intake: Intake) -> None:
        [(found, journal)] = [(i, j) for i, j in self.running if i is intake]
        self.running.remove((found, journal))
        await intake.stop(grace=0)
        await journal.close()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


@pytest_asyncio.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Workers]:
    workers = Workers(tmp_path / "intake")
    try:
        yield workers
    finally:
        for intake, _ in list(workers.running):
            await workers.stop(intake)


async def drained(*intakes: Intake) -> None:
    async with asyncio.timeout(10):
        for intake in intakes:
            await intake.drained()


async def test_a_later_message_taken_by_another_worker_waits_for_the_earlier(
    workers: Workers,
) -> None:
    first, second = await workers.start(), await workers.start()
    workers.customers.held["m-1"] = release = asyncio.Event()
    await first.handle(message("1", 1))
    await second.handle(message("1", 2))
    await second.handle(message("2", 3))  # another chat goes on meanwhile
    async with asyncio.timeout(10):
        await workers.customers.waiting.wait()
        while "m-3" not in workers.customers.handled:
            workers.customers.changed.clear()
            await workers.customers.changed.wait()
    assert workers.customers.handled == ["m-3"]  # m-2 waits for m-1, in the other worker
    release.set()
    await drained(first, second)
    assert workers.customers.handled == ["m-3", "m-1", "m-2"]
    assert workers.order.held == {"chat:telegram:1": set(), "chat:telegram:2": set()}


async def test_a_worker_stopped_mid_handling_keeps_the_place_of_what_it_left(
    workers: Workers,
) -> None:
    first, second = await workers.start(), await workers.start()
    workers.customers.held["m-1"] = asyncio.Event()  # never released: the stop cuts it
    await first.handle(message("1", 1))
    async with asyncio.timeout(10):
        await workers.customers.waiting.wait()
    await second.handle(message("1", 2))
    await workers.stop(first)
    assert workers.customers.handled == []  # m-2 waits for m-1, which waits in a journal

    del workers.customers.held["m-1"]
    again = await workers.start()  # the first worker, back on its journal file
    await drained(again, second)
    assert workers.customers.handled == ["m-1", "m-2"]


async def test_a_worker_that_died_is_waited_for_a_bounded_time(workers: Workers) -> None:
    await workers.order.ticket("chat:telegram:1")  # journaled by a worker killed since
    workers.order.holders_alive = False
    worker = await workers.start()
    await worker.handle(message("1", 2))
    async with asyncio.timeout(10):
        while not workers.customers.handled:
            await asyncio.sleep(0.01)
            workers.clock.now += timedelta(seconds=1)
    assert workers.customers.handled == ["m-2"]
    assert workers.order.held["chat:telegram:1"] == set()  # the dead one's ticket skipped


async def seconds_until_handled(workers: Workers) -> int:
    """Moves the injected clock a second at a time until something is handled."""
    seconds = 0
    async with asyncio.timeout(10):
        while not workers.customers.handled:
            await asyncio.sleep(0.01)
            workers.clock.now += timedelta(seconds=1)
            seconds += 1
    return seconds


async def test_a_live_workers_earlier_ticket_is_waited_for_then_briefly_once_it_is_gone(
    workers: Workers,
) -> None:
    await workers.order.ticket("chat:telegram:1")  # held by a worker draining, say
    worker = await workers.start()
    assert workers.order.started == 0  # the app starts the heartbeat, not the intake
    await worker.handle(message("1", 2))
    for _ in range(3 * int(WAIT)):  # well past the short bound: it is alive
        await asyncio.sleep(0.01)
        workers.clock.now += timedelta(seconds=1)
    assert workers.customers.handled == []
    workers.order.holders_alive = False  # its drain ended; not restarted
    assert WAIT <= await seconds_until_handled(workers) <= WAIT + 1
    assert workers.customers.handled == ["m-2"]
    assert workers.order.held["chat:telegram:1"] == set()


async def test_a_live_worker_stuck_for_good_is_waited_for_up_to_the_cap(
    workers: Workers,
) -> None:
    await workers.order.ticket("chat:telegram:1")
    worker = await workers.start()
    await worker.handle(message("1", 2))
    assert WAIT_ALIVE_UP_TO <= await seconds_until_handled(workers) <= WAIT_ALIVE_UP_TO + 1
    assert workers.customers.handled == ["m-2"]


async def test_without_the_shared_order_nothing_is_lost(workers: Workers) -> None:
    workers.order.away = True  # Redis is down
    worker = await workers.start()
    await worker.handle(message("1", 1))
    await worker.handle(message("1", 2))
    await drained(worker)
    assert workers.customers.handled == ["m-1", "m-2"]  # in this worker's order


class SlowFirstAnswer(MemoryLaneOrder):
    """Numbers tickets in order, but answers the first one late (a slow round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.calls = 0

    async def ticket(self, lane: str) -> int | None:
        number = await super().ticket(lane)
        self.calls += 1
        if self.calls == 1:
            await self.gate.wait()
        return number


async def test_two_events_of_a_lane_at_once_are_journaled_in_their_tickets_order(
    workers: Workers,
) -> None:
    workers.order = SlowFirstAnswer()
    worker = await workers.start()
    first = asyncio.create_task(worker.handle(message("1", 1)))
    second = asyncio.create_task(worker.handle(message("1", 2)))
    for _ in range(5):  # both are under way: the second asks for its place meanwhile
        await asyncio.sleep(0)
    workers.order.gate.set()
    await asyncio.gather(first, second)
    await drained(worker)  # not stuck behind its own lane's later ticket
    assert workers.customers.handled == ["m-1", "m-2"]
