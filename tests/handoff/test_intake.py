"""Durable intake: the real journal file, hand-written handlers that fail on cue."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from handoff.agent_texts import load_agent_texts
from handoff.errors import IntakeUnavailable, StateError
from handoff.intake import Backoff, Handlers, Intake
from handoff.journal import EventKind, from_json, to_json
from handoff.model import (
    Agent,
    AgentAction,
    AgentCommand,
    AgentReply,
    Attachment,
    ConversationKey,
    Customer,
    DeskThread,
    Inbound,
    MessageKind,
    Outbound,
)
from handoff.responses import load_responses
from handoff.storage.journal import SqliteJournal
from tests.support.fakes import RecordingChannel, RecordingDesk

REPO = Path(__file__).resolve().parents[2]
RESPONSES = load_responses(REPO / "config" / "responses.yml")
THREAD = DeskThread(channel="C0AGENTS", thread_ts="1700000000.000001")
ALICE = Agent(user_id="U0ALICE", display_name="Alice")


def message(chat: str, number: int, **extra: object) -> Inbound:
    return Inbound(
        key=ConversationKey("telegram", chat),
        customer=Customer(user_id=chat, display_name="Ada Lovelace", username="ada"),
        message_id=str(number),
        kind=MessageKind.TEXT,
        sent_at=datetime(2026, 12, 1, 12, 0, number % 60, tzinfo=UTC),
        text=f"m-{number}",
        **extra,  # type: ignore[arg-type]
    )


class Outage:
    """Raises like a store that is away, until ``back()``; counts the tries."""

    def __init__(self) -> None:
        self.away = False
        self._back = asyncio.Event()
        self.tries = 0

    def start(self) -> None:
        self.away, self._back = True, asyncio.Event()

    def back(self) -> None:
        self.away = False
        self._back.set()

    async def check(self) -> None:
        self.tries += 1
        if self.away:
            raise StateError("Redis failed while reading: connection refused")


class Customers:
    """The engine, as the intake sees it: records what it handled, in order."""

    def __init__(self, outage: Outage) -> None:
        self.outage = outage
        self.handled: list[str] = []
        self.broken: set[str] = set()  # texts whose handling raises a bug
        self.given_up: list[tuple[str, str]] = []
        self.hand_off_works = True
        self.hold: asyncio.Event | None = None  # while set and not released, handling waits
        self.started: list[str] = []
        self.began = asyncio.Event()  # set when a handling starts
        # Cancelled while held, the handling fails as a lock's release on a closing Redis does.
        self.release_fails = False

    async def handle(self, inbound: Inbound) -> None:
        self.started.append(f"{inbound.key.chat_id}/{inbound.text}")
        self.began.set()
        if self.hold is not None:
            try:
                await self.hold.wait()
            except asyncio.CancelledError:
                if self.release_fails:
                    raise StateError("Redis failed while releasing the lock: closed") from None
                raise
        await self.outage.check()
        if inbound.text in self.broken:
            raise RuntimeError("a bug")
        self.handled.append(f"{inbound.key.chat_id}/{inbound.text}")

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        self.given_up.append((inbound.text or "", error))
        return self.hand_off_works


class Agents:
    def __init__(self, outage: Outage) -> None:
        self.outage = outage
        self.replies: list[str] = []
        self.broken = False

    async def agent_reply(self, reply: AgentReply) -> None:
        await self.outage.check()
        if self.broken:
            raise RuntimeError("a bug")
        self.replies.append(reply.text)

    async def agent_action(self, action: AgentAction) -> None:
        await self.outage.check()
        self.replies.append(action.command.value)


class NotifyingChannel(RecordingChannel):
    """Also lets a test wait for the next message sent, without polling."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    async def send(self, message: Outbound) -> str:
        sent = await super().send(message)
        self.changed.set()
        return sent


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


class World:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.outage = Outage()
        self.customers = Customers(self.outage)
        self.agents = Agents(self.outage)
        self.channel = NotifyingChannel()
        self.desk = RecordingDesk()
        self.journal: SqliteJournal | None = None
        self.intake: Intake | None = None

    async def start(self, *, notice_after: float = 60.0) -> Intake:
        self.journal = SqliteJournal.open(self.folder)
        self.intake = Intake(
            journal=self.journal,
            responses=RESPONSES,
            texts=load_agent_texts(REPO / "config" / "agents.yml"),
            notice_after=notice_after,
            backoff=Backoff(first=0.001, longest=0.001),
            sleep=no_wait,
        )
        await self.intake.load()
        self.intake.run(
            Handlers(
                customers=self.customers, agents=self.agents, channel=self.channel, desk=self.desk
            )
        )
        return self.intake

    async def stop(self) -> None:
        if self.intake is not None:
            await self.intake.stop(grace=0)
        if self.journal is not None:
            await self.journal.close()
        self.intake = self.journal = None

    def told(self, key: str) -> list[str]:
        text = RESPONSES.system(key).text
        return [m.key.chat_id for m in self.channel.sent if m.text == text]


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    world = World(tmp_path / "intake")
    try:
        yield world
    finally:
        await world.stop()


async def settled(intake: Intake) -> None:
    async with asyncio.timeout(10):
        await intake.drained()


async def test_an_event_is_handled_after_it_is_journaled_and_then_forgotten(
    world: World,
) -> None:
    intake = await world.start()
    await intake.handle(message("1", 1))
    await settled(intake)
    assert world.customers.handled == ["1/m-1"]
    assert world.journal is not None
    assert await world.journal.pending() == []


async def test_an_outage_holds_a_lane_in_order_while_other_lanes_go_on(world: World) -> None:
    intake = await world.start()
    world.outage.start()
    for number in range(1, 6):
        await intake.handle(message("1", number))
    assert world.customers.handled == []
    world.outage.back()
    await intake.handle(message("2", 9))
    await settled(intake)
    ones = [item for item in world.customers.handled if item.startswith("1/")]
    assert ones == [f"1/m-{n}" for n in range(1, 6)]
    assert "2/m-9" in world.customers.handled
    assert world.outage.tries > 5  # it was tried through the outage


async def test_a_customer_kept_waiting_is_told_once_per_outage(world: World) -> None:
    intake = await world.start(notice_after=0.01)
    world.customers.hold = asyncio.Event()  # the store hangs, as a cut connection does
    for number in range(1, 4):
        await intake.handle(message("1", number))
    async with asyncio.timeout(10):
        while not world.told("outage_notice"):
            world.channel.changed.clear()
            await world.channel.changed.wait()
    world.customers.hold.set()
    await settled(intake)
    assert world.told("outage_notice") == ["1"]
    assert world.customers.handled == ["1/m-1", "1/m-2", "1/m-3"]


async def test_a_restart_in_the_middle_of_an_outage_loses_nothing(world: World) -> None:
    intake = await world.start()
    world.outage.start()
    for number in range(1, 4):
        await intake.handle(message("1", number))
    await intake.agent_reply(AgentReply(thread=THREAD, agent=ALICE, text="a-1", message_ts="1.1"))
    await world.stop()  # the process goes away while the store is still down

    world.outage.back()
    intake = await world.start()
    await settled(intake)
    assert world.customers.handled == ["1/m-1", "1/m-2", "1/m-3"]
    assert world.agents.replies == ["a-1"]


async def test_a_stop_ends_the_handling_in_progress_and_keeps_its_event(world: World) -> None:
    intake = await world.start()
    world.customers.hold = asyncio.Event()  # handling is under way when the stop comes
    world.customers.release_fails = True
    await intake.handle(message("1", 1))
    await intake.handle(message("1", 2))
    async with asyncio.timeout(10):
        await world.customers.began.wait()
        await intake.stop(grace=0)
    assert world.customers.started == ["1/m-1"]  # stopped, not retried nor given up on
    assert world.customers.given_up == []
    await world.stop()  # the journal closes with nothing of the intake still working on it

    world.customers.hold = None
    intake = await world.start()
    await settled(intake)
    assert world.customers.handled == ["1/m-1", "1/m-2"]


async def test_a_failing_message_hands_the_conversation_to_a_person(world: World) -> None:
    intake = await world.start()
    world.customers.broken = {"m-1"}
    await intake.handle(message("1", 1))
    await intake.handle(message("1", 2))
    await settled(intake)
    assert [text for text, _ in world.customers.given_up] == ["m-1"]
    assert "RuntimeError" in world.customers.given_up[0][1]
    assert world.customers.handled == ["1/m-2"]  # the lane goes on
    assert world.journal is not None
    assert await world.journal.failed_count() == 1  # kept, out of the way
    assert await world.journal.pending() == []


async def test_when_even_the_handoff_fails_the_customer_is_told_the_truth(world: World) -> None:
    intake = await world.start()
    world.customers.broken = {"m-1"}
    world.customers.hand_off_works = False
    await intake.handle(message("1", 1))
    await settled(intake)
    assert world.told("error_notice") == ["1"]


async def test_a_failing_agent_reply_is_reported_to_the_agent(world: World) -> None:
    intake = await world.start()
    world.agents.broken = True
    await intake.agent_reply(AgentReply(thread=THREAD, agent=ALICE, text="a-1", message_ts="1.1"))
    await settled(intake)
    assert [(agent, "not reached the customer" in text) for _, agent, text in world.desk.told] == [
        (ALICE, True)
    ]


async def test_each_running_process_gets_its_own_journal(tmp_path: Path) -> None:
    first = SqliteJournal.open(tmp_path)
    second = SqliteJournal.open(tmp_path)
    try:
        assert first.path != second.path
        entry = await second.append(
            lane="chat:x", kind=EventKind.CUSTOMER, payload={"a": 1}, at=datetime.now(UTC)
        )
    finally:
        await first.close()
        await second.close()
    # Both gone: the next process takes the first free file, then the one with the entry.
    again, other = SqliteJournal.open(tmp_path), SqliteJournal.open(tmp_path)
    try:
        assert [e.id for e in await other.pending()] == [entry.id]
        assert await again.pending() == []
    finally:
        await again.close()
        await other.close()


async def test_a_journal_from_before_tickets_is_read_and_its_entries_kept(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "intake-0.db")) as old:
        old.execute(
            "CREATE TABLE intake (id INTEGER PRIMARY KEY AUTOINCREMENT, lane TEXT NOT NULL,"
            " kind TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL, failed TEXT)"
        )
        old.execute(
            "INSERT INTO intake (lane, kind, payload, received_at)"
            " VALUES ('chat:x', 'customer', '{}', '2026-12-01T12:00:00+00:00')"
        )
        old.commit()
    journal = SqliteJournal.open(tmp_path)
    try:
        [kept] = await journal.pending()
        assert (kept.lane, kept.ticket) == ("chat:x", None)
        added = await journal.append(
            lane="chat:x", kind=EventKind.CUSTOMER, payload={}, at=datetime.now(UTC), ticket=7
        )
        assert [e.ticket for e in await journal.pending()] == [None, 7]
        assert added.ticket == 7
    finally:
        await journal.close()


async def test_a_closed_journal_refuses_writes_with_a_clear_error(tmp_path: Path) -> None:
    journal = SqliteJournal.open(tmp_path)
    await journal.close()
    with pytest.raises(IntakeUnavailable, match="is closed"):
        await journal.append(
            lane="chat:x", kind=EventKind.CUSTOMER, payload={}, at=datetime.now(UTC)
        )
    await journal.done(1)  # forgotten at once: replayed at the next start, seen as a repeat


async def test_a_journal_that_cannot_be_written_refuses_the_event(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(IntakeUnavailable, match="cannot open the intake journal"):
        SqliteJournal.open(blocker)


@pytest.mark.parametrize(
    "event",
    [
        message(
            "7",
            3,
            attachment=Attachment(file_id="f1", file_name="a.png", mime_type="image/png", size=3),
            edited=True,
        ),
        AgentReply(thread=THREAD, agent=ALICE, text="hi \ufffd", message_ts="1.2"),
        AgentAction(thread=THREAD, agent=ALICE, command=AgentCommand.CLAIM),
    ],
)
def test_events_survive_the_journal_form_unchanged(
    event: Inbound | AgentReply | AgentAction,
) -> None:
    assert from_json(type(event), to_json(event)) == event


async def test_a_lone_surrogate_is_journaled_not_refused(world: World) -> None:
    intake = await world.start()
    await intake.agent_reply(
        AgentReply(thread=THREAD, agent=ALICE, text="half \ud800 a pair", message_ts="1.3")
    )
    await settled(intake)
    assert world.agents.replies == ["half \ud800 a pair"]  # storage replaces it (sanitize)
