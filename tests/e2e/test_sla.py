"""The SLA ladder end to end: the whole service against both simulators, with the sandbox's
clock moved on (``Sandbox.later``) instead of waiting minutes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from bot.simulators.slack import defaults
from bot.simulators.telegram import SentMessage
from handoff.model import Mode
from tests.e2e.test_agent_flow import Customer, mode_of, thread_post
from tests.support.rasa import project_with

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sandbox]:
    config = project_with(shipped_model, tmp_path_factory.mktemp("sla"))
    world = Sandbox(load_settings(config))
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def told(sandbox: Sandbox, customer: Customer, contains: str) -> SentMessage:
    """The customer's latest message containing ``contains``, already there or to come."""
    while True:
        messages = sandbox.customer_view(customer=customer.user)
        for message in reversed(messages):
            if contains in message.text:
                return message
        await sandbox.bot_messages(len(messages) + 1, customer=customer.user)


async def test_the_customer_is_told_the_queue_and_an_honest_estimate(sandbox: Sandbox) -> None:
    # First in this sandbox: nobody has been claimed yet, so there is nothing to measure.
    first = Customer(sandbox)
    card = await first.hands_off()
    told_first = await told(sandbox, first, "in the queue")
    assert "getting a person" in told_first.text  # one message: the handoff and the queue
    assert "number 1 in the queue" in told_first.text
    assert "enough recent data" in told_first.text
    mark = sandbox.slack.mark()
    await sandbox.agent_presses("alice", card, "claim")
    await thread_post(sandbox, card, "claimed this conversation", since=mark)

    second = Customer(sandbox)
    await second.hands_off()
    told_second = await told(sandbox, second, "in the queue")
    assert "number 1 in the queue" in told_second.text
    assert "within 1 min" in told_second.text  # the one claim so far took seconds
    third = Customer(sandbox)
    await third.hands_off()
    assert "number 2 in the queue" in (await told(sandbox, third, "in the queue")).text


async def settled(sandbox: Sandbox) -> None:
    """The service has done what the handoff set off (its card and thread stored) before time
    moves: a card is in Slack a moment before the service records its thread, and an SLA look
    in between sees no handoff (with the embedding model on, that moment was long enough to
    miss the step: test_a_released_handoff_is_unclaimed_again_for_the_ladder)."""
    assert await sandbox.quiet_down(), "the service did not settle"


async def test_the_wait_update_and_each_of_its_choices(sandbox: Sandbox) -> None:
    keeping, leaving, writing = Customer(sandbox), Customer(sandbox), Customer(sandbox)
    cards = [await customer.hands_off() for customer in (keeping, leaving, writing)]
    for customer in (keeping, leaving, writing):
        await told(sandbox, customer, "in the queue")
    await settled(sandbox)
    await sandbox.later(305)
    updates = [await told(sandbox, c, "Sorry for the wait") for c in (keeping, leaving, writing)]
    assert [[label for row in u.buttons for label, _ in row] for u in updates] == [
        ["Keep waiting", "Back to the bot", "Leave a message for later"]
    ] * 3
    await sandbox.later(600)  # one update, not one per look
    assert sum("Sorry for the wait" in text for text in keeping.view()) == 1

    sandbox.customer_presses(updates[0], "wait:keep", customer=keeping.user)
    assert "number" in (await keeping.receives("Thanks for your patience")).text

    mark = sandbox.slack.mark()
    sandbox.customer_presses(updates[1], "wait:bot", customer=leaving.user)
    await leaving.receives("back with the automated assistant")
    await thread_post(sandbox, cards[1], "returned this conversation to the bot", since=mark)
    assert await mode_of(sandbox, leaving) is Mode.BOT

    mark = sandbox.slack.mark()
    sandbox.customer_presses(updates[2], "wait:later", customer=writing.user)
    await writing.receives("Write your message here")
    await thread_post(sandbox, cards[2], "leave a message instead of waiting", since=mark)
    writing.says("My invoice 4411 is wrong, please call me back tomorrow.")
    await thread_post(sandbox, cards[2], "invoice 4411", since=mark)
    # Nobody is there: nobody pretends to be typing.
    chat = str(writing.user["id"])
    typing = sandbox.telegram.calls_to("sendChatAction")
    assert [c for c in typing if str(c.params.get("chat_id")) == chat] == []

    # Pressed again after the handoff left the queue: stale, and nothing changes.
    sandbox.customer_presses(updates[1], "wait:keep", customer=leaving.user)
    await sandbox.telegram.wait_for_call(
        "answerCallbackQuery",
        lambda c: "no longer active" in json.dumps(c.params),
        timeout=15,
    )
    assert sum("Thanks for your patience" in text for text in leaving.view()) == 0


async def test_an_unclaimed_handoff_is_repinged_then_escalated(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    assert "waited since <!date^" in json.dumps(card.blocks)

    mark = sandbox.slack.mark()
    await settled(sandbox)
    await sandbox.later(125)
    reping = await thread_post(sandbox, card, "Can someone claim it?", since=mark)
    assert reping["text"].startswith("<!here> ")
    await sandbox.later(60)  # re-pinged once, not on every look
    assert len([m for m in sandbox.thread(card) if "Can someone claim it?" in m.text]) == 1

    mark = sandbox.slack.mark()
    await sandbox.later(500)
    note = await thread_post(sandbox, card, "Escalated after", since=mark)
    assert note["text"].startswith("<!here> ")
    update = await sandbox.slack.wait_for_call(
        "chat.update",
        lambda c: c.params.get("ts") == card.ts and "Escalated" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    assert update.ok


async def test_a_quiet_owner_is_pinged_once(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    await sandbox.agent_presses("alice", card, "claim")
    await thread_post(sandbox, card, "claimed this conversation", since=mark)

    mark = sandbox.slack.mark()
    await settled(sandbox)
    await sandbox.later(310)
    ping = await thread_post(sandbox, card, "has had no reply from you", since=mark)
    assert ping["text"].startswith(f"<@{defaults.ALICE_ID}> ")
    await sandbox.later(310)
    assert len([m for m in sandbox.thread(card) if "no reply from you" in m.text]) == 1


async def test_the_ladder_carries_on_after_a_restart_without_repeating_a_step(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    await settled(sandbox)
    await sandbox.later(125)
    await thread_post(sandbox, card, "Can someone claim it?", since=mark)

    await sandbox.restart_service()  # nothing of the ladder is kept in memory
    await sandbox.later(60)
    assert len([m for m in sandbox.thread(card) if "Can someone claim it?" in m.text]) == 1
    mark = sandbox.slack.mark()
    await sandbox.later(500)
    await thread_post(sandbox, card, "Escalated after", since=mark)


async def test_a_released_handoff_is_unclaimed_again_for_the_ladder(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    number = json.dumps(card.blocks or []).split("Handoff #", 1)[1].split(":", 1)[0]
    mark = sandbox.slack.mark()
    await settled(sandbox)
    await sandbox.later(125)
    await thread_post(sandbox, card, "Can someone claim it?", since=mark)
    mark = sandbox.slack.mark()
    await sandbox.agent_presses("alice", card, "claim")
    await thread_post(sandbox, card, "claimed this conversation", since=mark)

    mark = sandbox.slack.mark()
    answer = await sandbox.agent_command("alice", f"release #{number}")
    assert answer.status == 200
    await thread_post(sandbox, card, "released this conversation", since=mark)
    # Unclaimed again: nothing is due at once (its clocks start at the release)...
    await sandbox.later(60)
    assert len([m for m in sandbox.thread(card) if "Can someone claim it?" in m.text]) == 1
    # ...and the agents are pinged again when its time is up, then it is escalated.
    mark = sandbox.slack.mark()
    await sandbox.later(65)
    await thread_post(sandbox, card, "Can someone claim it?", since=mark)
    assert len([m for m in sandbox.thread(card) if "Can someone claim it?" in m.text]) == 2
    mark = sandbox.slack.mark()
    await sandbox.later(500)
    await thread_post(sandbox, card, "Escalated after", since=mark)
