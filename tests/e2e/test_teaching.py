"""Teaching the bot, end to end: the whole service (real Rasa on the shipped model) against
both simulators. The turns the bot failed get an intent picker in the handoff's thread; the
intent an agent picks is stored as a lesson (personal data masked, who, the model that
failed) and the thread says what was taught."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.adapters.slack.drafts import EDIT_DRAFT_ACTION, SEND_DRAFT_ACTION
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


@pytest.fixture(scope="module")
def project(shipped_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox's config file: the shipped model, a copy of the trainers' folder."""
    root = tmp_path_factory.mktemp("teaching")
    config = project_with(shipped_model, root)
    shutil.copytree(REPO / "nlu", root / "nlu", ignore=shutil.ignore_patterns("*.py", "__py*"))
    return config


def database_url(config: Path) -> str:
    """The project's database, shared by the sandbox and the commands run beside it."""
    return f"sqlite:///{config.parent.parent / 'data' / 'tandem.db'}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(project: Path) -> AsyncIterator[Sandbox]:
    (project.parent.parent / "data").mkdir(exist_ok=True)
    world = Sandbox(load_settings(project), database_url=database_url(project))
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


def drafts(sandbox: Sandbox, card: Message) -> list[tuple[Message, str]]:
    """The drafts offered in the card's thread: each post with a draft's text."""
    found = []
    for post in sandbox.thread(card):
        for block in post.blocks or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == SEND_DRAFT_ACTION:
                    found.append((post, str(element["value"])))
    return found


async def test_a_draft_is_sent_as_the_agent_with_one_click(sandbox: Sandbox) -> None:
    customer = telegram_user(8802, first_name="Grace", username="grace8802")
    sandbox.customer_says("/human", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    mark = sandbox.slack.mark()
    sandbox.customer_says("I forgot my password and can't sign in", customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and SEND_DRAFT_ACTION in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    card = next(c for c in reversed(sandbox.cards()) if "grace8802" in json.dumps(c.blocks))
    [(post, text), *_] = drafts(sandbox, card)
    assert "password" in text.lower()
    seen = len(sandbox.customer_view(customer=customer))

    mark = sandbox.slack.mark()
    await sandbox.slack_events.block_action(
        SEND_DRAFT_ACTION,
        text,
        user=defaults.ALICE_ID,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=post.ts,
        thread_ts=card.ts,
    )
    received = await sandbox.bot_messages(seen + 1, customer=customer)
    while not any(text in m.text for m in received[seen:]):
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    assert any("Alice" in m.text for m in received[seen:])  # introduced: the agent is named
    update = await sandbox.slack.wait_for_call("chat.update", lambda c: c.ok, since=mark)
    assert "sent a suggested reply" in json.dumps(update.params)
    assert SEND_DRAFT_ACTION not in json.dumps(update.params)  # no second send


async def test_an_edited_draft_is_sent_as_edited(sandbox: Sandbox) -> None:
    customer = telegram_user(8805, first_name="Edsger", username="edsger8805")
    sandbox.customer_says("/human", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    mark = sandbox.slack.mark()
    sandbox.customer_says("where is my order ORD-48213?", customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and EDIT_DRAFT_ACTION in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    card = next(c for c in reversed(sandbox.cards()) if "edsger8805" in json.dumps(c.blocks))
    [(post, text), *_] = drafts(sandbox, card)
    assert "ORD-48213" in text  # the placeholder filled from what the customer wrote
    seen = len(sandbox.customer_view(customer=customer))

    mark = sandbox.slack.mark()
    await sandbox.slack_events.block_action(
        EDIT_DRAFT_ACTION,
        text,
        user=defaults.BOB_ID,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=post.ts,
        thread_ts=card.ts,
    )
    opened = await sandbox.slack.wait_for_call("views.open", lambda c: c.ok, since=mark)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert json.dumps(view).count("ORD-48213") == 1  # the draft, prefilled
    edited = "Your order ORD-48213 left our warehouse this morning; it arrives Friday."
    answer = await sandbox.slack_events.view_submission(
        {**view, "id": "V0EDIT1"},
        {"draft": {"text": {"type": "plain_text_input", "value": edited}}},
        user=defaults.BOB_ID,
    )
    assert answer.status == 200
    received = await sandbox.bot_messages(seen + 1, customer=customer)
    while not any(edited in m.text for m in received[seen:]):
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    assert not any(text == m.text for m in received[seen:])  # the draft as edited, only
    update = await sandbox.slack.wait_for_call("chat.update", lambda c: c.ok, since=mark)
    assert edited in json.dumps(update.params)


async def test_no_draft_for_a_human_only_topic(sandbox: Sandbox) -> None:
    customer = telegram_user(8803, first_name="Alan", username="alan8803")
    sandbox.customer_says("/human", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    mark = sandbox.slack.mark()
    sandbox.customer_says("I want a refund for last month, I was charged twice", customer=customer)
    relayed = await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and "charged twice" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    sandbox.customer_says("thanks", customer=customer)  # drafts of the first come before this
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and "thanks" in json.dumps(c.params), since=mark
    )
    after = [
        call.params
        for call in sandbox.slack.calls[mark:]
        if call.method == "chat.postMessage" and SEND_DRAFT_ACTION in json.dumps(call.params)
    ]
    assert relayed.ok
    assert all("refund" not in json.dumps(params).lower() for params in after)


async def test_a_saved_reply_by_name_is_sent_as_the_agent(sandbox: Sandbox) -> None:
    customer = telegram_user(8804, first_name="Mary", username="mary8804")
    mark = sandbox.slack.mark()
    sandbox.customer_says("/human", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and "mary8804" in json.dumps(c.params), since=mark
    )
    card = next(c for c in reversed(sandbox.cards()) if "mary8804" in json.dumps(c.blocks))
    number = re.search(r"Handoff #(\d+)", json.dumps(card.blocks))
    assert number is not None
    seen = len(sandbox.customer_view(customer=customer))

    unknown = await sandbox.agent_command("bob", f"reply no_such_reply #{number.group(1)}")
    assert "no saved reply named" in json.dumps(unknown.json())
    mark = sandbox.slack.mark()
    answer = await sandbox.agent_command("bob", f"reply billing_question #{number.group(1)}")
    assert "On it" in json.dumps(answer.json())
    received = await sandbox.bot_messages(seen + 1, customer=customer)
    while not any("Settings > Billing" in m.text for m in received[seen:]):
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == card.ts and "suggested reply" in json.dumps(c.params)
        ),
        since=mark,
    )


async def tandem(config: Path, *args: str) -> str:
    """``tandem ARGS`` on the sandbox's project (its database, its trainers' folder)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        *args,
        env={**os.environ, "DATABASE_URL": database_url(config)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    text = out.decode()
    assert process.returncode == 0, text
    return text


async def bot_answers(sandbox: Sandbox, text: str, *, user_id: int) -> str:
    customer = telegram_user(user_id, first_name="Kay", username=f"kay{user_id}")
    sandbox.customer_says(text, customer=customer)
    return "\n".join(m.text for m in await sandbox.bot_messages(1, customer=customer))


async def test_the_loop_taught_reviewed_learned_trained_now_understood(
    sandbox: Sandbox, project: Path
) -> None:
    receipt = "i need a copy of my receipt from march"
    before = await bot_answers(sandbox, receipt, user_id=8810)
    assert "Settings > Billing" not in before  # not understood: the bot asks to rephrase

    customer = telegram_user(8811, first_name="Lin", username="lin8811")
    mark = sandbox.slack.mark()
    sandbox.customer_says(receipt, customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    sandbox.customer_says("/human", customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and TEACH_ACTION in json.dumps(c.params) and receipt in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    card = next(c for c in reversed(sandbox.cards()) if "lin8811" in json.dumps(c.blocks))
    [(offer, values)] = offers(sandbox, card)
    await pick(
        sandbox,
        defaults.ALICE_ID,
        card,
        offer,
        values[values.index(next(v for v in values if v.endswith(":billing_question")))],
    )
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: "taught the bot" in json.dumps(c.params), since=mark
    )

    reviewed = await tandem(project, "nlu", "review", "--intent", "billing_question")
    assert receipt in reviewed
    await tandem(project, "nlu", "review", "--intent", "billing_question", "--accept", "all")
    learned = await tandem(project, "nlu", "learn")
    assert "1 example(s) written" in learned
    await tandem(project, "nlu", "train")

    # The running service hot-loads the new model: the same text is now understood.
    for attempt in range(30):
        after = await bot_answers(sandbox, receipt, user_id=8820 + attempt)
        if "Settings > Billing" in after:
            break
        await asyncio.sleep(1)
    assert "Settings > Billing" in after
    effect = await tandem(project, "nlu", "review", "--effect")
    assert "failed: 1 of 1" in effect
