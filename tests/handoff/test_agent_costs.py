"""What an agent's event costs the database, counted (not timed): one transaction stores the
event, one more records each delivery; no conversation row and no "recent messages" are
read. ``tandem bench agent-reply`` measures the same with CPU time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.model import AgentAction, AgentCommand, AgentReply, DeskThread
from handoff.state import InMemoryLiveState
from handoff.storage import Database, Repository
from handoff.storage.counting import Counts, StatementCounter
from tests.handoff.test_engine import ALICE, BOB, World, build_engine, handed_off


@pytest.fixture
def counter(database: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter(database)
    yield counter
    counter.close()


@pytest.fixture
async def world(database: Database) -> World:
    return build_engine(Repository(database=database), InMemoryLiveState())


async def reply(world: World, thread: DeskThread, text: str, ts: str) -> None:
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, text, ts))


def stored_and_delivered(counts: Counts, deliveries: int) -> None:
    assert counts.transactions == 1 + deliveries
    assert counts.conversation_reads == 0
    assert counts.recent_reads == 0


async def test_a_first_reply_is_one_transaction_and_one_delivery_record(
    world: World, counter: StatementCounter
) -> None:
    thread = await handed_off(world)
    counter.take()
    await reply(world, thread, "Hi, Alice here", "1.1")  # claims, introduces, is sent
    stored_and_delivered(counter.take(), deliveries=1)
    assert world.replies()[-2:] == [
        "Alice Agent from our support team has joined the chat.",
        "Hi, Alice here",
    ]


async def test_a_later_reply_is_one_transaction_and_one_delivery_record(
    world: World, counter: StatementCounter
) -> None:
    thread = await handed_off(world)
    await reply(world, thread, "Hi", "1.1")
    counter.take()
    await reply(world, thread, "Let me look", "1.2")
    stored_and_delivered(counter.take(), deliveries=1)


@pytest.mark.parametrize(
    ("command", "deliveries"),
    [
        (AgentCommand.CLAIM, 0),
        (AgentCommand.STATUS, 0),
        (AgentCommand.RETURN, 1),  # the customer is told
        (AgentCommand.CLOSE, 1),  # thanked and asked for a rating
    ],
)
async def test_each_action_is_one_transaction(
    world: World, counter: StatementCounter, command: AgentCommand, deliveries: int
) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_action(AgentAction(thread, BOB, AgentCommand.CLAIM))
    counter.take()
    await world.handoffs.agent_action(AgentAction(thread, ALICE, command))
    stored_and_delivered(counter.take(), deliveries=deliveries)


async def test_another_process_looks_the_thread_up_once(
    world: World, database: Database, counter: StatementCounter
) -> None:
    thread = await handed_off(world)
    other = build_engine(
        Repository(database=database), world.state, channel=world.channel, desk=world.desk
    )
    counter.take()
    await other.handoffs.agent_reply(AgentReply(thread, ALICE, "Hi", "1.1"))
    first = counter.take()
    assert first.transactions == 3  # the thread's handoff and chat, the event, the delivery
    assert first.recent_reads == 0
    await other.handoffs.agent_reply(AgentReply(thread, ALICE, "More", "1.2"))
    stored_and_delivered(counter.take(), deliveries=1)
