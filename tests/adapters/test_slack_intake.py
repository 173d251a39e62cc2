"""Durable intake, Slack's side: an agent's message, press or command is answered as taken
only once the core took it (recorded it durably). One the core could not take is refused,
so that Slack sends it again, or, for presses and commands, which Slack never sends again,
the agent is told to try again. What was taken is never handled twice.

The fixtures are the adapter tests' (the real adapter, Bolt and the Slack simulator).
"""

# ruff: noqa: F811 - the adapter tests' fixtures are imported, then requested by name

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.slack.listeners import FAILED_ACTION, FAILED_REPLY, ON_IT
from bot.simulators.slack import SlackEventSender, SlackSimulator, WaitTimeout, events
from handoff.model import AgentAction, AgentCommand, AgentReply, DeskThread
from tests.adapters.test_slack_adapter import (  # noqa: F401 - fixtures, requested by name
    AGENTS,
    ALICE,
    BOB,
    WAIT,
    Handoffs,
    RecordingHandler,
    adapter,
    handler,
    handoffs,
    http,
    reply_event,
    sender,
    sim,
    slack_adapter,
    thread,
)
from tests.adapters.test_slack_cards import make_ticket


async def test_a_reply_is_taken_before_slack_gets_its_200(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    response = await sender.event_callback(reply_event(thread, "taken first"))

    assert response.status == 200
    # No waiting: by the time Slack has its answer, the core has the reply.
    assert [e.text for e in handler.events if isinstance(e, AgentReply)] == ["taken first"]


async def test_a_reply_the_core_could_not_take_is_refused_and_taken_when_slack_retries(
    sim: SlackSimulator, handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    event = reply_event(thread, "kept for the retry")
    handler.unavailable = True

    refused = await sender.event_callback(event, event_id="Ev0OUTAGE")
    handler.unavailable = False
    taken = await sender.event_callback(event, event_id="Ev0OUTAGE", retry_num=1)
    again = await sender.event_callback(event, event_id="Ev0OUTAGE", retry_num=2)

    assert (refused.status, taken.status, again.status) == (503, 200, 200)
    assert [e.text for e in handler.refused if isinstance(e, AgentReply)] == ["kept for the retry"]
    assert [e.text for e in handler.events if isinstance(e, AgentReply)] == ["kept for the retry"]
    assert sim.calls_to("chat.postEphemeral") == []  # Slack still had retries to come


async def test_a_redelivery_during_the_first_delivery_waits_for_it_and_is_not_handled_twice(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    event = reply_event(thread, "slow to take")
    handler.gate = asyncio.Event()
    first = asyncio.create_task(sender.event_callback(event, event_id="Ev0SLOW"))
    await asyncio.wait_for(handler.entered.wait(), WAIT)

    # Slack gave up waiting for the first answer (3 seconds) and sends the event again.
    retry = asyncio.create_task(sender.event_callback(event, event_id="Ev0SLOW", retry_num=1))
    handler.gate.set()
    answers = await asyncio.wait_for(asyncio.gather(first, retry), WAIT)

    assert [answer.status for answer in answers] == [200, 200]
    assert [e.text for e in handler.events if isinstance(e, AgentReply)] == ["slow to take"]


async def test_a_press_the_core_could_not_take_is_acknowledged_and_the_agent_told(
    sim: SlackSimulator, handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    handler.unavailable = True

    response = await sender.block_action(
        "tandem_claim", "42", user=BOB, channel=AGENTS, message_ts=thread.thread_ts
    )
    told = await sim.wait_for_call("chat.postEphemeral")

    assert response.status == 200  # Slack would show Bob an error, and never resend it
    assert (told.params["user"], told.params["text"]) == (BOB, FAILED_ACTION)
    assert told.params["thread_ts"] == thread.thread_ts
    assert handler.events == []
    # Not taken, so not "seen": the same press, once the core is back, is taken.
    handler.unavailable = False
    await sender.replay(sender.sent[-1])
    (claim,) = await handler.wait_for(1)
    assert isinstance(claim, AgentAction)
    assert claim.command is AgentCommand.CLAIM


async def test_a_command_the_core_could_not_take_is_answered_with_try_again(
    handler: RecordingHandler, handoffs: Handoffs, sender: SlackEventSender, thread: DeskThread
) -> None:
    handoffs.threads[42] = thread
    handler.unavailable = True

    response = await sender.slash_command("/tandem", "close #42", user=ALICE, channel=AGENTS)

    assert response.status == 200
    assert response.json() == {"text": FAILED_ACTION, "response_type": "ephemeral"}
    assert [e.command for e in handler.refused if isinstance(e, AgentAction)] == [
        AgentCommand.CLOSE
    ]
    assert handler.events == []


async def test_the_author_is_told_when_slacks_last_retry_could_not_be_taken_either(
    sim: SlackSimulator, handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    event = reply_event(thread, "never taken")
    handler.unavailable = True

    statuses = [(await sender.event_callback(event, event_id="Ev0LOST")).status]
    for retry in (1, 2, 3):
        answer = await sender.event_callback(event, event_id="Ev0LOST", retry_num=retry)
        statuses.append(answer.status)
    told = await sim.wait_for_call("chat.postEphemeral")

    assert statuses == [503] * 4
    assert (told.params["user"], told.params["text"]) == (ALICE, FAILED_REPLY)
    assert len(sim.calls_to("chat.postEphemeral")) == 1
    assert len(handler.refused) == 4


async def test_socket_mode_does_not_acknowledge_what_the_core_could_not_take(
    sim: SlackSimulator, handler: RecordingHandler
) -> None:
    slack = slack_adapter(sim, handler, http=None)
    await slack.start()
    try:
        thread = await slack.open_handoff(make_ticket())
        body = events.event_callback_body(reply_event(thread, "over the socket"))
        handler.unavailable = True
        # Not acknowledged: Slack sends the envelope again. (The simulator waits for the
        # acknowledgement that never comes; half a second is plenty on 127.0.0.1.)
        with pytest.raises(WaitTimeout):
            await sim.send_socket_mode("events_api", body, timeout=0.5)
        handler.unavailable = False
        ack = await sim.send_socket_mode("events_api", body, retry_attempt=1)
        command = events.slash_command_form(
            "/tandem",
            f"claim https://x.slack.com/archives/{AGENTS}/p{thread.thread_ts.replace('.', '')}",
            user=BOB,
            channel=AGENTS,
            response_url="https://unused.invalid",
        )
        command_ack = await sim.send_socket_mode("slash_commands", dict(command))
    finally:
        await slack.stop()

    assert "envelope_id" in ack
    assert command_ack["payload"] == {"text": ON_IT, "response_type": "ephemeral"}
    assert [type(e) for e in handler.refused] == [AgentReply]
    assert [type(e) for e in handler.events] == [AgentReply, AgentAction]


async def test_a_slow_name_lookup_does_not_hold_up_slacks_answer(
    sim: SlackSimulator, handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    # Slack waits three seconds for its answer; users.info may take longer than that.
    sim.slow_next("users.info", delay=30)

    response = await sender.event_callback(reply_event(thread, "named by id"))

    assert response.status == 200
    (reply,) = handler.events
    assert isinstance(reply, AgentReply)
    assert reply.agent.display_name == ALICE  # the id stands in; it is not remembered
