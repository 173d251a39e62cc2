"""Waiting is not failing: Telegram's 429 with a ``retry_after`` past the retry budget.

Before the fix, a 429 asking to wait 90 s raised DeliveryError at once (after 1 call),
which marks an agent's reply failed for good.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.adapters.telegram import RetryPolicy, TelegramAdapter
from bot.simulators.telegram import TelegramSimulator
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import ButtonAnswer, ConversationKey, Outbound
from tests.adapters.test_telegram_adapter import (
    CHAT,
    OTHER_CHAT,
    RecordingHandler,
    polling_adapter,
)

# Budgets in seconds, small so that the waits a test sits out stay short.
POLICY = RetryPolicy(attempts=4, first_delay=0.05, budget=0.5, finish_budget=3.0)
THREE_PARTS = ("word " * 199 + "end.\n") * 9  # 9,000 characters: three messages

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        simulator.send_text(CHAT, "hi")  # the chats are known, as after a customer wrote
        simulator.send_text(OTHER_CHAT, "hi")
        yield simulator


@pytest.fixture
async def adapter(sim: TelegramSimulator) -> AsyncIterator[TelegramAdapter]:
    async with polling_adapter(sim, RecordingHandler(), retry=POLICY) as telegram:
        yield telegram


def _to(chat_id: int, text: str) -> Outbound:
    return Outbound(key=ConversationKey("telegram", str(chat_id)), text=text)


async def test_a_wait_past_the_budget_defers_and_sends_nothing(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.flood("sendMessage", seconds=90, chat_id=CHAT, from_next_call=True)  # 90 however late

    with pytest.raises(DeliveryDeferred, match="wait 90s") as deferred:
        await adapter.send(_to(CHAT, "an agent's reply"))

    assert not isinstance(deferred.value, DeliveryError)  # not a failure for good
    assert deferred.value.retry_after == 90
    assert [c.status for c in sim.calls_to("sendMessage")] == [429]
    assert sim.messages_to(CHAT) == []


async def test_a_chat_held_back_defers_later_messages_without_asking_again(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.fail_next("sendMessage", status=429, retry_after=90)
    with pytest.raises(DeliveryDeferred):
        await adapter.send(_to(CHAT, "first"))

    # It would be refused too, and waiting for it here could let it overtake "first".
    with pytest.raises(DeliveryDeferred) as second:
        await adapter.send(_to(CHAT, "second"))
    await adapter.send(_to(OTHER_CHAT, "another chat is not held"))

    assert 85 < second.value.retry_after <= 90
    assert [c.params["text"] for c in sim.calls_to("sendMessage")] == [
        "first",
        "another chat is not held",
    ]


async def test_a_wait_within_the_budget_is_sat_out(sim: TelegramSimulator) -> None:
    sim.flood("sendMessage", seconds=1, chat_id=CHAT)
    patient = RetryPolicy(first_delay=0.05, budget=5.0)
    async with polling_adapter(sim, RecordingHandler(), retry=patient) as telegram:
        await telegram.send(_to(CHAT, "after the short wait"))

    refused, accepted = sim.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert [m.text for m in sim.messages_to(CHAT)] == ["after the short wait"]


async def test_a_message_partly_out_waits_for_its_other_parts(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    # The second part is asked to wait 1 s: past the 0.5 s budget, within finish_budget.
    sim.fail_next("sendMessage", status=429, retry_after=1, after=1)

    await adapter.send(_to(CHAT, THREE_PARTS))

    assert [c.status for c in sim.calls_to("sendMessage")] == [200, 429, 200, 200]
    sent = sim.messages_to(CHAT)
    assert len(sent) == 3  # each part once
    assert "\n".join(m.text for m in sent) == THREE_PARTS


async def test_past_the_hard_cap_the_error_says_how_much_was_sent(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.fail_next("sendMessage", status=429, retry_after=60, after=2)

    with pytest.raises(DeliveryError, match=r"\(2 of its 3 parts were sent\)"):
        await adapter.send(_to(CHAT, THREE_PARTS))

    assert [c.status for c in sim.calls_to("sendMessage")] == [200, 200, 429]


async def test_a_button_answer_told_to_wait_long_is_logged_not_raised(
    adapter: TelegramAdapter, sim: TelegramSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.fail_next("answerCallbackQuery", status=429, retry_after=90)

    await adapter.answer_button(ButtonAnswer(press_id="123", text="Thanks"))

    assert "gave up on the answer to button press 123" in caplog.text
    assert [r.levelno for r in caplog.records if "button press" in r.getMessage()] == [
        logging.WARNING
    ]


# --- a reply whose sender is told when it is late (an agent's) ----------------------------


def _reply(chat_id: int, text: str) -> Outbound:
    return replace(_to(chat_id, text), told_if_late=True)


async def test_a_reply_told_if_late_defers_past_defer_after_within_the_budget(
    sim: TelegramSimulator,
) -> None:
    sim.flood("sendMessage", seconds=20, chat_id=CHAT, from_next_call=True)  # 20 however late
    async with polling_adapter(sim, RecordingHandler(), retry=RetryPolicy()) as telegram:
        with pytest.raises(DeliveryDeferred, match="wait 20s") as deferred:
            await telegram.send(_reply(CHAT, "an agent's reply"))
        # The chat is held: the next reply defers too, without asking Telegram again.
        with pytest.raises(DeliveryDeferred):
            await telegram.send(_reply(CHAT, "the agent's next reply"))

    assert RetryPolicy().defer_after < 20 < RetryPolicy().budget
    assert deferred.value.retry_after == 20
    assert [c.status for c in sim.calls_to("sendMessage")] == [429]
    assert sim.messages_to(CHAT) == []


async def test_a_reply_told_if_late_sits_out_a_wait_within_defer_after(
    sim: TelegramSimulator,
) -> None:
    sim.flood("sendMessage", seconds=5, chat_id=CHAT, from_next_call=True)
    async with polling_adapter(sim, RecordingHandler(), retry=RetryPolicy()) as telegram:
        await telegram.send(_reply(CHAT, "after five seconds"))

    assert RetryPolicy().defer_after > 5
    refused, accepted = sim.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert [m.text for m in sim.messages_to(CHAT)] == ["after five seconds"]


async def test_the_bots_own_message_still_waits_up_to_the_budget(sim: TelegramSimulator) -> None:
    # Scaled down: a wait past defer_after, within the budget, is sat out by a message
    # nobody is told about (the bot's replies, notices) and defers a reply told if late.
    short = RetryPolicy(first_delay=0.05, budget=5.0, defer_after=0.2)
    sim.flood("sendMessage", seconds=1, chat_id=CHAT, from_next_call=True)
    async with polling_adapter(sim, RecordingHandler(), retry=short) as telegram:
        with pytest.raises(DeliveryDeferred):
            await telegram.send(_reply(CHAT, "an agent's reply"))
        await telegram.send(_to(CHAT, "the bot's answer"))

    statuses = [c.status for c in sim.calls_to("sendMessage")]
    assert (statuses[0], statuses[-1]) == (429, 200)  # waited as asked, however many times
    assert [m.text for m in sim.messages_to(CHAT)] == ["the bot's answer"]


async def test_network_errors_keep_the_budget_for_a_reply_told_if_late(
    sim: TelegramSimulator,
) -> None:
    short = RetryPolicy(first_delay=0.1, budget=5.0, defer_after=0.05)
    sim.fail_next("sendMessage", status=502, times=2)  # backs off 0.1 + 0.2 s: past 0.05
    async with polling_adapter(sim, RecordingHandler(), retry=short) as telegram:
        await telegram.send(_reply(CHAT, "after two bad gateways"))

    assert [c.status for c in sim.calls_to("sendMessage")] == [502, 502, 200]
    assert [m.text for m in sim.messages_to(CHAT)] == ["after two bad gateways"]
