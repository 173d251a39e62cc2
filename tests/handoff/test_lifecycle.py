"""The state machine applied: each agent command and reply with real storage (SQLite), real
live state and the shipped catalogues, what agents are told and shown, word for word."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from handoff.agent_records import AgentChange, AppliedAgentEvent
from handoff.agent_texts import AgentTexts, load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.errors import DeliveryError
from handoff.model import Agent, AgentAction, AgentCommand, AgentReply, CardStatus, DeskThread, Mode
from handoff.records import Handoff
from handoff.responses import load_responses
from handoff.state import InMemoryLiveState
from handoff.storage import Database, HandoffEventKind, Repository
from tests.handoff.test_engine import ALICE, BOB, World, build_engine
from tests.handoff.test_engine import handed_off as thread_of_new_handoff
from tests.support.fakes import RecordingDesk

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world(database: Database) -> World:
    return build_engine(Repository(database=database), InMemoryLiveState())


@pytest.fixture(autouse=True)
def store_agrees_with_the_table(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After each event the stored handoff is in the state the table said it would be."""
    yield
    errors = [r for r in caplog.get_records("call") if r.name == "handoff.lifecycle"]
    assert not [r for r in errors if r.levelno >= logging.ERROR]


async def act(world: World, thread: DeskThread, agent: Agent, command: AgentCommand) -> None:
    await world.handoffs.agent_action(AgentAction(thread, agent, command))


async def the_handoff(world: World) -> Handoff:
    handoff = await world.repository.latest_handoff_for(world.desk.tickets[0].conversation_id)
    assert handoff is not None
    return handoff


async def events(world: World) -> list[tuple[HandoffEventKind, str | None, object]]:
    handoff = await the_handoff(world)
    return [
        (e.kind, e.actor_name, e.detail) for e in await world.repository.handoff_events(handoff.id)
    ]


def told(world: World) -> list[tuple[str, str]]:
    return [(agent.user_id, text) for _, agent, text in world.desk.told]


def notes(world: World) -> list[str]:
    return [text for _, text in world.desk.notes]


async def test_claim_release_and_a_reply_that_claims_again(world: World) -> None:
    thread = await thread_of_new_handoff(world)
    number = (await the_handoff(world)).id
    await act(world, thread, ALICE, AgentCommand.STATUS)
    await act(world, thread, ALICE, AgentCommand.RELEASE)  # nobody owns it yet
    await act(world, thread, ALICE, AgentCommand.CLAIM)
    assert await world.live_mode() is Mode.HUMAN
    await act(world, thread, ALICE, AgentCommand.CLAIM)  # again
    await act(world, thread, BOB, AgentCommand.STATUS)
    await act(world, thread, ALICE, AgentCommand.RELEASE)
    assert await world.live_mode() is Mode.WAITING
    assert world.desk.cards[-1][1].status is CardStatus.WAITING
    await world.handoffs.agent_reply(AgentReply(thread, BOB, "Bob here", "2.1"))

    assert told(world) == [
        (ALICE.user_id, f"Handoff #{number} is waiting for an agent."),
        (ALICE.user_id, "Nobody owns this conversation yet."),
        (ALICE.user_id, "You already own this conversation."),
        (BOB.user_id, f"Handoff #{number} is owned by Alice Agent."),
    ]
    assert notes(world) == [
        "Alice Agent claimed this conversation.",
        "Alice Agent released this conversation; it waits for an agent.",
        "Bob Builder claimed this conversation.",
    ]
    assert await events(world) == [
        (HandoffEventKind.REQUESTED, None, {"reason": "person_requested"}),
        (HandoffEventKind.CLAIMED, "Alice Agent", None),
        (HandoffEventKind.RELEASED, "Alice Agent", None),
        (HandoffEventKind.CLAIMED, "Bob Builder", None),
    ]
    assert world.replies()[-2:] == [
        "Bob Builder from our support team has joined the chat.",
        "Bob here",
    ]
    assert await world.live_mode() is Mode.HUMAN
    assert world.desk.cards[-1][1].owner == BOB


async def test_claim_by_another_agent_transfers(world: World) -> None:
    thread = await thread_of_new_handoff(world)
    await act(world, thread, ALICE, AgentCommand.CLAIM)
    await act(world, thread, BOB, AgentCommand.CLAIM)
    assert notes(world)[-1] == "Bob Builder took this conversation over from Alice Agent."
    assert (await events(world))[-1] == (
        HandoffEventKind.TRANSFERRED,
        "Bob Builder",
        {"from": "Alice Agent"},
    )
    assert world.desk.cards[-1][1].changed_by == BOB


@pytest.mark.parametrize(
    ("command", "status", "note", "mode"),
    [
        (
            AgentCommand.RETURN,
            "was returned to the bot.",
            "returned this conversation to the bot.",
            Mode.BOT,
        ),
        (AgentCommand.CLOSE, "is closed.", "closed this conversation.", None),
    ],
)
async def test_a_finished_handoff_refuses_everything_but_its_status(
    world: World, command: AgentCommand, status: str, note: str, mode: Mode | None
) -> None:
    thread = await thread_of_new_handoff(world)
    number = (await the_handoff(world)).id
    await act(world, thread, ALICE, command)
    assert notes(world) == [f"Alice Agent {note}"]
    assert await world.live_mode() is mode  # a closed conversation leaves the live state
    before = await events(world)
    for again in AgentCommand:
        if again not in {AgentCommand.RETRY, AgentCommand.RETRACT}:  # not about the handoff
            await act(world, thread, BOB, again)
    await world.handoffs.agent_reply(AgentReply(thread, BOB, "too late", "3.1"))

    line = f"Handoff #{number} {status}"
    assert told(world) == [
        (BOB.user_id, f"Nothing to do: {line}"),
        (BOB.user_id, f"Nothing to do: {line}"),
        (BOB.user_id, f"Nothing to do: {line}"),
        (BOB.user_id, f"Nothing to do: {line}"),
        (BOB.user_id, line),
        (BOB.user_id, "This conversation is no longer with a person; your message was not sent."),
    ]
    assert await events(world) == before
    assert notes(world) == [f"Alice Agent {note}"]
    assert "too late" not in world.replies()


async def test_a_command_outside_a_handoff_thread_is_answered(world: World) -> None:
    stray = DeskThread(channel=world.desk.channel, thread_ts="1600000000.000001")
    await act(world, stray, ALICE, AgentCommand.CLAIM)
    assert told(world) == [(ALICE.user_id, "That thread is not a Tandem handoff.")]


class OutrunRepository(Repository):
    """Another worker claims every handoff between this one reading it and storing what its
    event changes (as a worker whose view went stale would)."""

    async def apply_agent_event(
        self, handoff_id: int, plan: Callable[[Handoff], AgentChange]
    ) -> AppliedAgentEvent:
        seen = await self.get_handoff(handoff_id)
        assert seen is not None
        change = plan(seen)
        await self.claim_handoff(handoff_id, agent_id="U0RIVAL", agent_name="Rival")
        return await super().apply_agent_event(handoff_id, lambda _: change)


async def test_a_claim_that_loses_a_race_changes_nothing_but_the_reply_is_sent(
    database: Database,
) -> None:
    world = build_engine(OutrunRepository(database=database), InMemoryLiveState())
    thread = await thread_of_new_handoff(world)
    number = (await the_handoff(world)).id
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Alice here", "4.1"))
    assert told(world) == [
        (ALICE.user_id, f"Could not claim: handoff {number} is already claimed by Rival")
    ]
    assert notes(world) == []
    assert [kind for kind, _, _ in await events(world)] == [HandoffEventKind.REQUESTED]
    assert await world.live_mode() is Mode.WAITING
    assert world.replies()[-1] == "Alice here"


@dataclass
class UnreachableAgents(RecordingDesk):
    """A desk whose private lines to agents cannot be delivered."""

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        raise DeliveryError("Slack refused the ephemeral message")


async def test_an_answer_that_cannot_be_delivered_fails_the_event_a_hint_does_not(
    database: Database,
) -> None:
    world = build_engine(
        Repository(database=database), InMemoryLiveState(), desk=UnreachableAgents()
    )
    thread = await thread_of_new_handoff(world)
    await act(world, thread, ALICE, AgentCommand.RELEASE)  # a hint: logged, the event done
    with pytest.raises(DeliveryError):  # the answer is the whole event: the intake retries
        await act(world, thread, ALICE, AgentCommand.STATUS)


async def test_the_desk_says_what_the_operators_catalogue_says(
    database: Database, tmp_path: Path
) -> None:
    data = yaml.safe_load((REPO / "config" / "agents.yml").read_text(encoding="utf-8"))
    data["notes"]["claimed"] = "#{handoff}: {agent} has it."
    data["status"]["claimed"] = "{owner} is on #{handoff} (asked by {agent})."
    path = tmp_path / "agents.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    world = world_with(Repository(database=database), texts=load_agent_texts(path))
    thread = await thread_of_new_handoff(world)
    number = (await the_handoff(world)).id
    await act(world, thread, ALICE, AgentCommand.CLAIM)
    await act(world, thread, BOB, AgentCommand.STATUS)
    assert notes(world) == [f"#{number}: Alice Agent has it."]
    assert told(world) == [(BOB.user_id, f"Alice Agent is on #{number} (asked by Bob Builder).")]


def world_with(repository: Repository, *, texts: AgentTexts) -> World:
    """The world of :func:`~tests.handoff.test_engine.build_engine`, whose agents' side
    speaks from ``texts`` (the engine's own desk opens handoffs, which says nothing)."""
    world = build_engine(repository, InMemoryLiveState())
    conversations = Conversations(repository=repository, state=world.state, channel=world.channel)
    responses = load_responses(REPO / "config" / "responses.yml", rng=random.Random(7))
    world.handoffs = HandoffDesk(
        conversations=conversations, desk=world.desk, responses=responses, texts=texts
    )
    return world
