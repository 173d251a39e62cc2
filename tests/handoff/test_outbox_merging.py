"""Customer messages that waited together reach the agents together: the outbox offers them
to the desk as one batch (merged into one post in Slack), in order, each recorded delivered
on its own; the conversation comes back when its turn is due. Real storage and live state;
fakes of the platforms (see test_engine)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from handoff.errors import DeliveryDeferred
from handoff.model import Customer, CustomerRelay, DeskThread
from handoff.state import InMemoryLiveState
from handoff.storage import Database, Delivery, Repository
from tests.handoff.test_engine import World, build_engine, handed_off
from tests.support.fakes import RecordingDesk


class BusyDesk(RecordingDesk):
    """A desk whose channel is busy for ``busy`` relays (the turn is ``turn_in`` s away),
    and which shows at most ``fits`` messages per merged post."""

    def __init__(self, *, busy: int = 0, turn_in: float = 0.0, fits: int = 100) -> None:
        super().__init__()
        self.busy = busy
        self.turn_in = turn_in
        self.fits = fits

    def _wait(self) -> None:
        if self.busy > 0:
            self.busy -= 1
            raise DeliveryDeferred("the channel is busy", retry_after=self.turn_in)

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        self._wait()
        return await super().relay_to_agents(thread, message, customer=customer)

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        self._wait()
        return await super().relay_many(thread, messages[: self.fits], customer=customer)


class Clock:
    """The outbox's clock, moved on by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def pass_(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def build(database: Database, desk: BusyDesk, clock: Clock | None = None) -> World:
    return build_engine(
        Repository(database=database), InMemoryLiveState(), desk=desk, clock=clock or Clock()
    )


async def waiting(database: Database, *texts: str, turn_in: float) -> tuple[World, BusyDesk, Clock]:
    """A handed-off conversation whose customer wrote ``texts`` while the channel was
    busy for the first (its turn ``turn_in`` s away)."""
    desk, clock = BusyDesk(busy=1, turn_in=turn_in), Clock()
    world = build(database, desk, clock)
    await handed_off(world)
    for text in texts:
        await world.say(text)
    return world, desk, clock


def shown(world: World) -> list[str | None]:
    return [relay.text for _, relay, _ in world.desk.relays]


async def test_messages_that_waited_for_the_turn_go_in_one_batch_when_it_is_due(
    database: Database,
) -> None:
    world, desk, clock = await waiting(database, "m-1", "m-2", "m-3", turn_in=5.0)
    assert shown(world) == []  # m-1 waits for its turn; m-2 and m-3 wait behind it
    assert (await world.stored("m-1")).delivery is Delivery.PENDING
    assert await world.handoffs.redeliver_due() == 0  # not yet

    clock.pass_(5.0)
    stopping = asyncio.Event()
    stopping.set()  # the service stops: no conversation is begun, nothing is dropped
    assert await world.handoffs.redeliver_due(stop=stopping) == 0
    assert await world.handoffs.redeliver_pending(older_than=timedelta(0), stop=stopping) == 0
    assert await world.handoffs.redeliver_due() == 3
    assert desk.merged == [3]
    assert shown(world) == ["m-1", "m-2", "m-3"]
    ids = [(await world.stored(text)).id for text in ("m-1", "m-2", "m-3")]
    assert [relay.outbox_id for _, relay, _ in desk.relays] == ids
    for text in ("m-1", "m-2", "m-3"):
        assert (await world.stored(text)).delivery is Delivery.DELIVERED
    assert await world.handoffs.redeliver_due() == 0  # nothing is due twice
    assert await world.redeliver() == 0


async def test_a_message_behind_a_waiting_one_asks_for_no_turn_of_its_own(
    database: Database,
) -> None:
    desk = BusyDesk(busy=2, turn_in=3600.0)
    world = build(database, desk)
    await handed_off(world)
    await world.say("m-1")
    await world.say("m-2")
    assert await world.redeliver() == 0
    assert shown(world) == []
    assert desk.busy == 1  # the desk was asked once


async def test_what_does_not_fit_one_post_follows_in_the_next(database: Database) -> None:
    desk, clock = BusyDesk(busy=1, turn_in=1.0, fits=2), Clock()
    world = build(database, desk, clock)
    await handed_off(world)
    for text in ("m-1", "m-2", "m-3"):
        await world.say(text)
    clock.pass_(1.0)
    assert await world.handoffs.redeliver_due() == 3
    assert desk.merged == [2]  # m-3 went on its own, after them
    assert shown(world) == ["m-1", "m-2", "m-3"]


async def test_only_messages_another_process_may_have_posted_are_in_doubt(
    database: Database,
) -> None:
    # m-1's first try: not the channel's turn yet
    world, desk, clock = await waiting(database, "m-1", "m-2", turn_in=1.0)
    clock.pass_(1.0)
    assert await world.handoffs.redeliver_due() == 2  # tried in this process before
    desk.fail_relays = 1
    await world.say("m-3")  # the first try, no answer: pending
    # A worker that had m-3 died before recording it; another one (or it, restarted)
    # finds it pending, and knows nothing of whether it was posted.
    restarted, later = BusyDesk(), Clock()
    later.now = datetime.now(UTC) + timedelta(minutes=1)  # m-3 was stored a while ago
    assert await build(database, restarted, later).redeliver() == 1

    assert [(r.text, r.in_doubt) for _, r, _ in desk.relays] == [
        ("m-1", False),
        ("m-2", False),
    ]
    assert [(r.text, r.in_doubt) for _, r, _ in restarted.relays] == [("m-3", True)]
