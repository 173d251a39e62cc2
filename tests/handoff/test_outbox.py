"""The outbox's order and patience: a message that cannot go now holds back the ones after
it, and a platform's "wait" is waiting, not failing. Real storage and live state; fakes of
the platforms (see test_engine)."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.errors import DeliveryDeferred
from handoff.model import AgentReply, Outbound
from handoff.outbox import NOT_BEFORE
from handoff.state import InMemoryLiveState
from handoff.storage import Database, Delivery, Repository, StorageUnavailable, StoredMessage
from tests.handoff.test_engine import ALICE, World, build_engine, handed_off
from tests.support.fakes import RecordingChannel


class WaitingChannel(RecordingChannel):
    """A customer channel that can answer "too many requests, retry after N s"."""

    def __init__(self) -> None:
        super().__init__()
        self.retry_after: float | None = None
        self.attempts = 0

    async def send(self, message: Outbound) -> str:
        self.attempts += 1
        if self.retry_after is not None:
            raise DeliveryDeferred("Flood control exceeded", retry_after=self.retry_after)
        return await super().send(message)


def build(database: Database, channel: RecordingChannel | None = None) -> World:
    return build_engine(
        Repository(database=database), InMemoryLiveState(), channel=channel or RecordingChannel()
    )


async def test_a_customer_message_waiting_for_slack_holds_back_the_next(
    database: Database,
) -> None:
    world = build(database)
    await handed_off(world)
    world.desk.fail_relays = 2  # m-1, then m-1 again when m-2 arrives
    await world.say("m-1")
    await world.say("m-2")
    assert world.desk.relays == []  # m-2 did not overtake m-1
    assert (await world.stored("m-2")).delivery is Delivery.PENDING

    assert await world.redeliver() == 2
    assert [relay.text for _, relay, _ in world.desk.relays] == ["m-1", "m-2"]
    assert [relay.outbox_id for _, relay, _ in world.desk.relays] == [
        (await world.stored("m-1")).id,
        (await world.stored("m-2")).id,
    ]
    assert await world.redeliver() == 0


async def test_a_long_wait_from_telegram_keeps_the_reply_pending_and_says_so(
    database: Database,
) -> None:
    channel = WaitingChannel()
    world = build(database, channel)
    thread = await handed_off(world)
    channel.retry_after = 90.0
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-1", "1.1"))
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-2", "1.2"))

    first, second = await world.stored("a-1"), await world.stored("a-2")
    assert first.delivery is Delivery.PENDING  # not failed: Telegram only asked to wait
    assert first.decision is not None
    assert NOT_BEFORE in first.decision
    assert second.delivery is Delivery.PENDING  # behind it, in order
    told = [text for _, agent, text in world.desk.told if agent == ALICE]
    assert len(told) == 1
    assert "delayed, not lost" in told[0]
    assert "90 s" in told[0]

    attempts = channel.attempts
    channel.retry_after = None
    assert await world.redeliver() == 0  # not before Telegram allows it
    assert channel.attempts == attempts


async def test_a_reply_that_waited_goes_out_first_once_allowed(
    database: Database,
) -> None:
    channel = WaitingChannel()
    world = build(database, channel)
    thread = await handed_off(world)
    channel.retry_after = 0.0  # allowed again at once
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-1", "1.1"))
    channel.retry_after = None
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-2", "1.2"))

    replies = world.replies()
    assert replies[-3:] == ["Alice Agent from our support team has joined the chat.", "a-1", "a-2"]
    assert replies.count("Alice Agent from our support team has joined the chat.") == 1
    assert (await world.stored("a-1")).delivery is Delivery.DELIVERED
    assert (await world.stored("a-2")).delivery is Delivery.DELIVERED
    assert await world.redeliver() == 0


async def test_a_refused_reply_does_not_hold_back_the_next(
    database: Database,
) -> None:
    world = build(database)
    thread = await handed_off(world)
    world.channel.refuse = "Forbidden: bot was blocked by the user"
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-1", "1.1"))
    world.channel.refuse = None
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-2", "1.2"))
    assert (await world.stored("a-1")).delivery is Delivery.FAILED
    assert world.replies()[-1] == "a-2"


class FlakyRecords(Repository):
    """The real repository, whose next ``failures`` delivery records fail as in an outage."""

    failures = 0

    async def mark_delivery(self, *args: Any, **kwargs: Any) -> StoredMessage:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("recording a message's delivery: connection refused")
        return await super().mark_delivery(*args, **kwargs)


async def test_a_reply_sent_while_the_database_went_away_is_never_sent_twice(
    database: Database,
) -> None:
    records = FlakyRecords(database=database)
    world = build_engine(records, InMemoryLiveState())
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-0", "1.0"))  # introduced
    records.failures = 1  # sent to Telegram, then the database is gone
    reply = AgentReply(thread, ALICE, "a-1", "1.1")
    with pytest.raises(StorageUnavailable):
        await world.handoffs.agent_reply(reply)
    await world.handoffs.agent_reply(reply)  # the intake tries again once it is back
    assert await world.redeliver() == 0
    assert world.replies().count("a-1") == 1
    assert (await world.stored("a-1")).delivery is Delivery.DELIVERED


async def test_an_agents_reply_is_told_if_late_and_the_bots_words_are_not(
    database: Database,
) -> None:
    # The channel may defer a message told if late after a short wait (Telegram's
    # defer_after): the outbox tells the agent, as above. The bot's own replies wait longer.
    channel = RecordingChannel()
    world = build(database, channel)
    thread = await handed_off(world)
    before = len(channel.sent)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "a-1", "1.1"))

    assert before > 0
    assert not any(message.told_if_late for message in channel.sent[:before])
    replies = channel.sent[before:]
    assert replies[-1].text == "a-1"
    assert all(message.told_if_late for message in replies)  # the introduction too
