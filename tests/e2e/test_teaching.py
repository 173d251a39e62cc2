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
from bot.adapters.slack.teach_form import TEACH_OTHER_ACTION, TEACH_SHORTCUT, TEACH_VIEW
from bot.adapters.slack.teaching import TEACH_ACTION
from bot.sandbox.console import Console
from bot.sandbox.demo import Transcripts
from bot.sandbox.world import CUSTOMER, Sandbox
from bot.settings import load_settings
from bot.simulators.slack import Message, defaults
from bot.simulators.telegram import telegram_user
from handoff.lessons import Lesson, LessonStatus
from handoff.storage.lesson_queries import LessonQueries
from handoff.storage.repository import Repository
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


async def test_a_lesson_taught_after_the_handoff_closed_shows_on_its_closed_card(
    sandbox: Sandbox,
) -> None:
    customer = telegram_user(8806, first_name="Rosa", username="rosa8806")
    sandbox.customer_says("the wibbler sprockets are out of phase", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    card = await handed_off(sandbox, customer, shows=TEACH_ACTION)
    [(offer, values)] = offers(sandbox, card)
    await sandbox.agent_presses("bob", card, "close")
    received = await sandbox.bot_messages(3, customer=customer)
    while not received[-1].buttons:  # the request to rate the help
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    four = next(data for row in received[-1].buttons for label, data in row if label == "★★★★")
    mark = sandbox.slack.mark()
    sandbox.customer_presses(received[-1], four, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.update", lambda c: c.ok and "(4/5)" in json.dumps(c.params), since=mark
    )

    mark = sandbox.slack.mark()
    bug = next(v for v in values if v.endswith(":bug_report"))
    await pick(sandbox, defaults.ALICE_ID, card, offer, bug)
    redrawn = await sandbox.slack.wait_for_call(
        "chat.update", lambda c: c.ok and "Taught" in json.dumps(c.params), since=mark, timeout=15
    )
    shown = json.dumps(redrawn.params, ensure_ascii=False).replace("\u200b", "")
    assert redrawn.params["ts"] == card.ts
    assert "Taught: “the wibbler sprockets are out of phase” → bug_report by Alice" in shown
    # Still the closed card: who closed it, the customer's rating, no buttons.
    assert f"Closed by <@{defaults.BOB_ID}> · Rating: ★★★★☆ (4/5)" in shown
    assert "tandem_claim" not in shown


async def shortcut(sandbox: Sandbox, message: Message, *, channel: str = "") -> Any:
    """Alice uses "Teach the bot this" on ``message``: the form it opened (views.open's
    view), or what she was told instead (the response_url's text)."""
    mark, told = sandbox.slack.mark(), len(sandbox.slack.response_posts)
    await sandbox.slack_events.message_shortcut(
        TEACH_SHORTCUT,
        message.to_api(),
        user=defaults.ALICE_ID,
        channel=channel or message.channel,
    )
    opened = asyncio.create_task(sandbox.slack.wait_for_call("views.open", since=mark))
    answered = asyncio.create_task(sandbox.slack.wait_for_response_post(since=told))
    done, pending = await asyncio.wait({opened, answered}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if opened in done:
        view = opened.result().params["view"]
        return json.loads(view) if isinstance(view, str) else view
    return str(answered.result().body.get("text"))


async def handed_off(sandbox: Sandbox, customer: Any, *, shows: str = "") -> Message:
    """``customer`` asks for a person: their card, once the thread shows ``shows``."""
    mark = sandbox.slack.mark()
    sandbox.customer_says("/human", customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and (shows or customer["username"]) in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    return next(
        c for c in reversed(sandbox.cards()) if customer["username"] in json.dumps(c.blocks)
    )


async def relayed_into(sandbox: Sandbox, said: str, *, customer: Any) -> None:
    mark = sandbox.slack.mark()
    sandbox.customer_says(said, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and said in json.dumps(c.params), since=mark, timeout=15
    )


async def delivery_recorded(
    sandbox: Sandbox, card: Message, post: Message, *, messages: int = 1
) -> None:
    """Until Tandem has recorded that ``post`` shows its customer's ``messages`` messages
    (just after posting it; until then the shortcut finds no message behind the post)."""
    assert sandbox.service is not None
    assert sandbox.service.database is not None
    repository = Repository(database=sandbox.service.database)
    found = await repository.locate_thread(agent_channel=card.channel, thread_ts=card.ts)
    assert found is not None
    for _ in range(100):
        recent = await repository.recent_messages(found[0].conversation_id, limit=20)
        if sum((m.decision or {}).get("sent_id") == post.ts for m in recent) >= messages:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the delivery of {post.ts} was never recorded")


async def submit(
    sandbox: Sandbox, view: Any, *, picked: str = "", typed: str = "", message: str = ""
) -> Any:
    """Alice submits the teaching form (``message``: the one chosen of a merged post's);
    Tandem's answer (errors shown in the form, or {})."""
    values: dict[str, dict[str, Any]] = {
        "pick": {"intent": {"type": "static_select", "selected_option": None}},
        "new": {"name": {"type": "plain_text_input", "value": typed or None}},
    }
    if picked:
        values["pick"]["intent"]["selected_option"] = {"value": picked}
    if view["blocks"][0].get("block_id") == "message":
        chosen = {"value": message} if message else None
        values["message"] = {"which": {"type": "radio_buttons", "selected_option": chosen}}
    answer = await sandbox.slack_events.view_submission(
        {**view, "id": "V0TEACH1"}, values, user=defaults.ALICE_ID
    )
    assert answer.status == 200
    return json.loads(answer.body) if answer.body else {}


async def test_any_relayed_customer_message_is_taught_a_new_intent_by_shortcut(
    sandbox: Sandbox,
) -> None:
    customer = telegram_user(8830, first_name="Joan", username="joan8830")
    card = await handed_off(sandbox, customer)
    said = "can I pay with apple pay"
    await relayed_into(sandbox, said, customer=customer)
    relayed = next(m for m in sandbox.thread(card) if said in m.text)
    await delivery_recorded(sandbox, card, relayed)

    # Only a customer's message that Tandem relayed, in a handoff's thread, can be taught.
    assert "can be taught" in await shortcut(sandbox, card)
    assert "not a Tandem handoff" in await shortcut(sandbox, relayed, channel="C0ELSEWHERE")

    view = await shortcut(sandbox, relayed)
    assert view["callback_id"] == TEACH_VIEW
    assert said in json.dumps(view["blocks"])
    options = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert options[-1] == "out_of_scope"
    assert "billing_question" in options
    # One intent exactly, and a new one must be a name Rasa takes that is not taken.
    errors = {
        "": (await submit(sandbox, view))["errors"]["pick"],
        "both": (await submit(sandbox, view, picked="greet", typed="pay_methods"))["errors"],
        "Apple Pay!": (await submit(sandbox, view, typed="Apple Pay!"))["errors"]["new"],
        "billing": (await submit(sandbox, view, typed="billing_question"))["errors"]["new"],
        "rasa": (await submit(sandbox, view, typed="nlu_fallback"))["errors"]["new"],
    }
    assert "one of the two" in errors[""]
    assert "one of the two" in errors["both"]["pick"]
    assert "cannot be an intent name" in errors["Apple Pay!"]
    assert "is an intent already" in errors["billing"]
    assert "Rasa's own intents" in errors["rasa"]
    assert await lessons_of(sandbox, relayed_text=said) == []

    mark = sandbox.slack.mark()
    assert await submit(sandbox, view, typed="payment_methods") == {}
    redrawn = await sandbox.slack.wait_for_call(
        "chat.update", lambda c: c.ok and "payment" in json.dumps(c.params), since=mark, timeout=15
    )
    assert redrawn.params["ts"] == card.ts  # the card shows what was taught, and by whom
    assert "Taught: “can I pay with apple pay” → payment" in json.dumps(
        redrawn.params, ensure_ascii=False
    ).replace("\u200b", "")
    assert "Alice" in json.dumps(redrawn.params)
    [lesson] = await lessons_of(sandbox, relayed_text=said)
    assert (lesson.intent, lesson.taught_by_id) == ("payment_methods", defaults.ALICE_ID)


async def test_the_shortcut_on_a_merged_post_teaches_the_message_chosen_in_the_form(
    sandbox: Sandbox,
) -> None:
    customer = telegram_user(8832, first_name="Ines", username="ines8832")
    card = await handed_off(sandbox, customer)
    said = ["hello again", "my parcel never came", "it came in a blue box"]
    mark = sandbox.slack.mark()
    # Slack holds the first back: the customer's next two wait behind it and the three
    # are shown in one post (each stays a message of its own, posted as that post).
    sandbox.slack.fail_next("chat.postMessage", status=429, retry_after=2)
    for text in said:
        sandbox.customer_says(text, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and all(text in json.dumps(c.params) for text in said),
        since=mark,
        timeout=15,
    )
    [merged] = [m for m in sandbox.thread(card) if said[0] in m.text]
    await delivery_recorded(sandbox, card, merged, messages=3)

    view = await shortcut(sandbox, merged)
    which = view["blocks"][0]
    assert which["block_id"] == "message"
    options = {o["text"]["text"]: o["value"] for o in which["element"]["options"]}
    assert list(options) == said
    assert (
        "Choose the message" in (await submit(sandbox, view, picked="greet"))["errors"]["message"]
    )
    assert await lessons_of(sandbox, relayed_text="parcel") == []

    mark = sandbox.slack.mark()
    chosen = options["my parcel never came"]
    assert await submit(sandbox, view, typed="parcel_missing", message=chosen) == {}
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: "taught the bot" in json.dumps(c.params) and "parcel" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    [lesson] = await lessons_of(sandbox, relayed_text="parcel")
    assert (lesson.text, lesson.intent, lesson.message_id) == (
        "my parcel never came",
        "parcel_missing",
        int(chosen),
    )


async def test_the_button_under_an_offer_opens_the_form_for_its_message(sandbox: Sandbox) -> None:
    customer = telegram_user(8831, first_name="Ken", username="ken8831")
    sandbox.customer_says("my zorblax is frobnicated again", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    card = await handed_off(sandbox, customer, shows=TEACH_OTHER_ACTION)
    [(offer, values)] = offers(sandbox, card)
    mark = sandbox.slack.mark()
    await sandbox.slack_events.block_action(
        TEACH_OTHER_ACTION,
        values[0].partition(":")[0],
        user=defaults.BOB_ID,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=offer.ts,
        thread_ts=card.ts,
    )
    opened = await sandbox.slack.wait_for_call("views.open", lambda c: c.ok, since=mark)
    assert "zorblax is frobnicated" in json.dumps(opened.params)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert await submit(sandbox, view, picked="out_of_scope") == {}
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: "out" in json.dumps(c.params) and "taught" in json.dumps(c.params),
        since=mark,
    )
    [lesson] = await lessons_of(sandbox, relayed_text="zorblax")
    assert lesson.intent == "out_of_scope"


async def lessons_of(sandbox: Sandbox, *, relayed_text: str) -> list[Lesson]:
    return [x for x in await lessons(sandbox) if relayed_text in x.text]


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
    # Billing in words the shipped examples lack (MiniLM reads "a copy of my receipt" as
    # the invoices question already): not understood until taught.
    receipt = "need proof of purchase for my accountant"
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


async def test_the_sandbox_console_teaches_both_ways_and_runs_the_trainers_commands(
    sandbox: Sandbox,
) -> None:
    printed: list[str] = []
    console = Console(sandbox, out=printed.append)
    mark = sandbox.slack.mark()
    await console.do("my flux thingamajig broke")
    await sandbox.bot_messages(1)
    await console.do("/human")
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and TEACH_ACTION in json.dumps(c.params), since=mark
    )
    await console.do(":teach alice bug_report")
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: "means bug" in json.dumps(c.params), since=mark
    )
    card = sandbox.cards()[-1]
    await relayed_into(sandbox, "the thingamajig hums at night", customer=CUSTOMER)
    relayed = next(m for m in sandbox.thread(card) if "hums at night" in m.text)
    await delivery_recorded(sandbox, card, relayed)
    await console.do(":teachlast bob Thingamajig Help!")
    assert any("cannot be an intent name" in line for line in printed)
    await console.do(":teachlast bob thingamajig_noise")
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: "thingamajig" in json.dumps(c.params), since=mark
    )
    assert {(x.text, x.intent) for x in await lessons_of(sandbox, relayed_text="thingamajig")} == {
        ("my flux thingamajig broke", "bug_report"),
        ("the thingamajig hums at night", "thingamajig_noise"),
    }
    await console.do(":nlu review --intent thingamajig_noise")
    assert any("the thingamajig hums at night" in line for line in printed), printed[-3:]
    # The card is redrawn after the lesson's note is posted: wait for it, not for the note.
    await sandbox.slack.wait_for_call(
        "chat.update",
        lambda c: "Taught" in json.dumps(c.params) and "by Bob" in json.dumps(c.params),
        since=mark,
        timeout=15.0,
    )
    transcripts = Transcripts()
    transcripts.catch_up(sandbox)  # the card, as the console prints it, lists both lessons
    assert "Taught: “the thingamajig hums at night” → thingamajig_noise by Bob" in "\n".join(
        transcripts.slack
    )
