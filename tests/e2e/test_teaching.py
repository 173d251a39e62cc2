"""Teaching the bot, end to end: the whole service (real Rasa on the shipped model) against
both simulators. The turns the bot failed get an intent picker in the handoff's thread; the
intent an agent picks is stored as a lesson (personal data masked, who, the model that
failed) and the thread says what was taught."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.adapters.slack.teaching import TEACH_ACTION
from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from bot.simulators.slack import Message, defaults
from bot.simulators.telegram import telegram_user
from handoff.lessons import Lesson, LessonStatus
from handoff.storage.lesson_queries import LessonQueries
from tests.support.rasa import project_with

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
CARD = "4111 1111 1111 1111"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sandbox]:
    root = tmp_path_factory.mktemp("teaching")
    config = project_with(shipped_model, root)
    shutil.copytree(REPO / "nlu", root / "nlu", ignore=shutil.ignore_patterns("*.py", "__py*"))
    world = Sandbox(load_settings(config))
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


def offers(sandbox: Sandbox, card: Message) -> list[tuple[Message, list[str]]]:
    """The teaching offers in the card's thread, each with the values of its options."""
    found = []
    for post in sandbox.thread(card):
        for block in post.blocks or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == TEACH_ACTION:
                    found.append((post, [str(o["value"]) for o in element["options"]]))
    return found


async def pick(sandbox: Sandbox, agent: str, card: Message, offer: Message, value: str) -> None:
    await sandbox.slack_events.block_action(
        TEACH_ACTION,
        value,
        user=agent,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=offer.ts,
        thread_ts=card.ts,
        kind="static_select",
    )


async def lessons(sandbox: Sandbox) -> list[Lesson]:
    assert sandbox.service is not None
    assert sandbox.service.database is not None
    return await LessonQueries(database=sandbox.service.database).lessons()


async def test_an_agent_teaches_a_failed_turn_from_the_thread(sandbox: Sandbox) -> None:
    customer = telegram_user(8801, first_name="Ada", username="ada8801")
    sandbox.customer_says(f"the flux capacitor ate my card {CARD}", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    mark = sandbox.slack.mark()
    sandbox.customer_says("/human", customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and TEACH_ACTION in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    card = sandbox.cards()[-1]
    [(offer, values)] = offers(sandbox, card)
    shown = json.dumps(offer.blocks)
    assert "the flux capacitor ate my card [card]" in shown
    assert CARD not in shown
    intents = [value.partition(":")[2] for value in values]
    assert intents[-1] == "out_of_scope"
    assert {"billing_question", "order_status", "greet"} <= set(intents)

    mark = sandbox.slack.mark()
    billing = next(v for v in values if v.endswith(":billing_question"))
    await pick(sandbox, defaults.ALICE_ID, card, offer, billing)
    note = await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and "taught the bot" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    text: Any = note.params.get("text", "")
    assert "means billing_question" in text.replace("\u200b", "")  # mrkdwn-escaped _
    assert CARD not in json.dumps(note.params)
    [lesson] = await lessons(sandbox)
    assert lesson.text == "the flux capacitor ate my card [card]"
    assert (lesson.intent, lesson.status, lesson.taught_by_id) == (
        "billing_question",
        LessonStatus.PENDING,
        defaults.ALICE_ID,
    )
    assert lesson.model is not None
    assert lesson.model.endswith(".tar.gz")

    # Another pick relabels it while it waits for review; a made-up option is refused.
    await pick(sandbox, defaults.BOB_ID, card, offer, billing.replace("billing_question", "Bad!"))
    await sandbox.slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: "is not an intent name" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    await pick(sandbox, defaults.BOB_ID, card, offer, billing.replace("billing", "refund"))
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: "taught the bot" in json.dumps(c.params) and "refund" in json.dumps(c.params),
        since=mark,
    )
    assert [(x.intent, x.taught_by_id) for x in await lessons(sandbox)] == [
        ("refund_question", defaults.BOB_ID)
    ]
