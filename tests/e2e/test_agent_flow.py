"""Agents in Slack, end to end: the whole service (the same composition as production, with
a real Rasa server on the shipped model) against both simulators: the real PTB client for
the customer, the real Bolt app in HTTP mode with signed requests for the agents."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from bot.simulators.slack import Message, Signature, defaults, events
from bot.simulators.telegram import PHOTO_CONTENT, JsonDict, SentMessage, telegram_user
from handoff.model import ConversationKey, Mode
from tests.support.rasa import project_with

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
AGENTS = defaults.AGENTS_CHANNEL_ID

_ids = itertools.count(9100)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sandbox]:
    config = project_with(shipped_model, tmp_path_factory.mktemp("agents"))
    world = Sandbox(load_settings(config))
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


class Customer:
    """A new customer per test, so the tests share one sandbox without sharing chats."""

    def __init__(self, sandbox: Sandbox) -> None:
        user_id = next(_ids)
        self.user: JsonDict = telegram_user(
            user_id, first_name="Grace", last_name="Hopper", username=f"grace{user_id}"
        )
        self._sandbox = sandbox

    def says(self, text: str) -> None:
        self._sandbox.customer_says(text, customer=self.user)

    async def receives(self, contains: str) -> SentMessage:
        seen = len(self._sandbox.customer_view(customer=self.user))
        while True:
            messages = await self._sandbox.bot_messages(seen + 1, customer=self.user)
            for message in messages[seen:]:
                if contains in message.text:
                    return message
            seen = len(messages)

    def view(self) -> list[str]:
        return [m.text for m in self._sandbox.customer_view(customer=self.user)]

    async def hands_off(self) -> Message:
        """Ask for a person; return the handoff card that appears for this customer."""
        mark = self._sandbox.slack.mark()
        self.says("/human")
        await self.receives("getting a person")
        call = await self._sandbox.slack.wait_for_call(
            "chat.postMessage",
            lambda c: (
                not c.params.get("thread_ts") and self.user["username"] in json.dumps(c.params)
            ),
            since=mark,
            timeout=15,
        )
        assert call.ok
        return next(
            card
            for card in reversed(self._sandbox.cards())
            if self.user["username"] in (card.text + json.dumps(card.blocks or []))
        )


async def thread_post(sandbox: Sandbox, card: Message, contains: str, *, since: int) -> JsonDict:
    call = await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok and c.params.get("thread_ts") == card.ts and contains in json.dumps(c.params)
        ),
        since=since,
        timeout=15,
    )
    return call.params


async def mode_of(sandbox: Sandbox, customer: Customer) -> Mode | None:
    assert sandbox.service is not None
    assert sandbox.service.state is not None
    live = await sandbox.service.state.get(ConversationKey("telegram", str(customer.user["id"])))
    return live.mode if live else None


async def test_the_card_shows_who_why_what_the_nlu_saw_and_the_transcript(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    customer.says("asdf qwer zxcv")
    await customer.receives("")
    mark = sandbox.slack.mark()
    customer.says("purple monkey dishwasher")
    await customer.receives("person")
    call = await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: not c.params.get("thread_ts"), since=mark, timeout=15
    )
    card = json.dumps(call.params)
    for shown in ("Grace Hopper", customer.user["username"], "asdf qwer zxcv", "%", "Claim"):
        assert shown in card
    actions = [b for b in call.params["blocks"] if b["type"] == "actions"]
    assert {e["action_id"] for e in actions[0]["elements"]} == {
        "tandem_claim",
        "tandem_return",
        "tandem_close",
        "tandem_retract",
    }


async def test_customer_text_arrives_escaped_and_cannot_ping(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    customer.says("hey <!channel> and <@U123> look @here <http://evil.example|click me>")
    params = await thread_post(sandbox, card, "look", since=mark)
    fallback = params["text"]
    assert "<!channel>" not in fallback
    assert "<@U123>" not in fallback
    assert "&lt;!channel&gt;" in fallback
    assert "@here" not in fallback  # neutralised with an invisible joiner
    assert "<http://evil.example|click me>" not in fallback
    # In the blocks the customer's words are plain text, which Slack never parses.
    texts = [block["text"] for block in params.get("blocks", []) if block.get("type") == "section"]
    assert any(t["type"] == "plain_text" and "<!channel>" in t["text"] for t in texts)


async def test_agent_reply_reaches_the_customer_and_notes_stay_internal(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    await sandbox.agent_says("alice", card, "note: checking the billing system first")
    await sandbox.agent_says("alice", card, "Hi Grace, I'm looking into it.")
    await customer.receives("Hi Grace, I'm looking into it.")
    assert not any("checking the billing system" in text for text in customer.view())
    assert any("Alice from our support team has joined" in text for text in customer.view())


async def test_a_retried_event_is_relayed_once(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    posted, first = await sandbox.agent_says("bob", card, "Only once please", event_id="Ev0RETRY1")
    assert first.status == 200
    retry = events.user_message_event(
        channel=AGENTS,
        user=defaults.BOB_ID,
        text="Only once please",
        ts=posted.ts,
        thread_ts=card.ts,
    )
    again = await sandbox.slack_events.event_callback(
        retry, event_id="Ev0RETRY1", retry_num=1, retry_reason="http_timeout"
    )
    assert again.status == 200
    await customer.receives("Only once please")
    await sandbox.agent_says("bob", card, "And this after it")
    await customer.receives("And this after it")
    assert customer.view().count("Only once please") == 1


async def test_the_bots_own_message_is_never_relayed(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    own = events.bot_message_event(
        channel=AGENTS, text="Tandem's own note", bot_id=defaults.BOT_ID, thread_ts=card.ts
    )
    answer = await sandbox.slack_events.event_callback(own)
    assert answer.status == 200
    await sandbox.agent_says("alice", card, "A real reply")
    await customer.receives("A real reply")
    assert "Tandem's own note" not in customer.view()


@pytest.mark.parametrize("signature", [Signature.WRONG, Signature.STALE, Signature.MISSING])
async def test_unsigned_forged_or_stale_requests_get_401(
    sandbox: Sandbox, signature: Signature
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    _, answer = await sandbox.agent_says("alice", card, "forged", signature=signature)
    assert answer.status == 401
    await sandbox.agent_says("alice", card, "genuine")
    await customer.receives("genuine")
    assert "forged" not in customer.view()


async def test_ownership_transfers_only_when_claim_is_pressed(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    await sandbox.agent_says("alice", card, "Alice here")
    await customer.receives("Alice here")
    await sandbox.agent_says("bob", card, "Bob adding a detail")
    await customer.receives("Bob adding a detail")  # relayed, but Alice still owns it
    assert sandbox.service is not None
    mark = sandbox.slack.mark()
    await sandbox.agent_presses("bob", card, "claim")
    update = await sandbox.slack.wait_for_call(
        "chat.update", lambda c: "Claimed by" in json.dumps(c.params), since=mark, timeout=15
    )
    assert "Bob" in json.dumps(update.params)
    await thread_post(sandbox, card, "took this conversation over from", since=mark)


async def test_a_restart_in_the_middle_of_a_handoff(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    await sandbox.agent_says("alice", card, "Before the restart")
    await customer.receives("Before the restart")
    await sandbox.restart_service()
    assert await mode_of(sandbox, customer) is Mode.HUMAN
    mark = sandbox.slack.mark()
    customer.says("still there?")
    await thread_post(sandbox, card, "still there?", since=mark)
    await sandbox.agent_says("alice", card, "After the restart")
    await customer.receives("After the restart")
    assert customer.view().count("Alice from our support team has joined the chat.") == 1


async def test_a_429_from_slack_while_relaying_is_retried_and_posted_once(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    sandbox.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    customer.says("my message during a rate limit")
    await thread_post(sandbox, card, "my message during a rate limit", since=mark)
    posts = [
        call
        for call in sandbox.slack.calls[mark:]
        if call.method == "chat.postMessage" and "rate limit" in json.dumps(call.params)
    ]
    assert [call.status for call in posts] == [429, 200]
    thread = [m.text for m in sandbox.thread(card)]
    assert sum("my message during a rate limit" in t for t in thread) == 1


async def test_return_to_bot_then_close_with_a_rating(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    await sandbox.agent_presses("alice", card, "return")
    await customer.receives("back with the automated assistant")
    assert await mode_of(sandbox, customer) is Mode.BOT
    customer.says("I forgot my password")
    await customer.receives("Forgot password?")
    second = await customer.hands_off()
    await sandbox.agent_presses("bob", second, "close")
    request = await customer.receives("rate")
    five = request.buttons[0][-1][1]
    mark = sandbox.slack.mark()
    sandbox.customer_presses(request, five, customer=customer.user)
    await customer.receives("Thank you for your rating")
    await sandbox.slack.wait_for_call(
        "chat.update", lambda c: "5/5" in json.dumps(c.params), since=mark, timeout=15
    )


async def test_the_slash_command_names_a_thread_by_its_number(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    number = json.dumps(card.blocks or []).split("Handoff #", 1)[1].split(":", 1)[0]
    mark = sandbox.slack.mark()
    answer = await sandbox.agent_command("bob", f"claim #{number}")
    assert answer.status == 200
    assert answer.json()["text"] == "On it.", (number, answer.json())
    await sandbox.slack.wait_for_call(
        "chat.update", lambda c: "Claimed by" in json.dumps(c.params), since=mark, timeout=15
    )
    assert await mode_of(sandbox, customer) is Mode.HUMAN


async def test_a_customers_photo_arrives_in_the_thread_as_a_file(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    sandbox.telegram.send_photo(
        customer.user["id"], caption="the box <!channel> arrived dented", user=customer.user
    )
    completed = await sandbox.slack.wait_for_call(
        "files.completeUploadExternal",
        lambda c: c.ok and c.params.get("thread_ts") == card.ts,
        since=mark,
        timeout=15,
    )
    comment = completed.params["initial_comment"]
    assert "Grace Hopper" in comment
    assert "the box &lt;!channel&gt; arrived dented" in comment
    (uploaded,) = [f for f in sandbox.slack.files if f.thread_ts == card.ts]
    assert re.fullmatch(r"photo\.tandem-\d+\.jpg", uploaded.name)  # tagged with its outbox id
    assert uploaded.channels == (AGENTS,)
    assert uploaded.size == len(PHOTO_CONTENT)  # the bytes Telegram served, all of them
    notes = [c for c in sandbox.slack.calls[mark:] if c.method == "chat.postMessage"]
    assert not any("not shown here" in json.dumps(c.params) for c in notes)
