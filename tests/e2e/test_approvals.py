"""Approval for sensitive topics, end to end: the whole service (real Rasa on the shipped
model) against both simulators, with ``agents.approvers`` naming a Slack user group by its
handle (Bob is its member). A draft answering a human-only topic cannot be sent by another
agent (whatever they press); their "Request approval" pings the group in the thread; the
approver's Approve sends it, as the agent who asked, and it reaches the customer once (their
Decline sends nothing); every request, refusal, decline and approval is in the handoff's
audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.adapters.slack.approvals import APPROVE_ACTION, DECLINE_ACTION
from bot.adapters.slack.drafts import (
    EDIT_DRAFT_ACTION,
    REQUEST_APPROVAL_ACTION,
    SEND_DRAFT_ACTION,
)
from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from bot.simulators.slack import Message, defaults
from bot.simulators.telegram import JsonDict, telegram_user
from handoff.records import HandoffEventKind
from handoff.storage import Repository
from tests.support.rasa import project_with

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
REFUND = "I want a refund for last month, I was charged twice"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sandbox]:
    config = project_with(shipped_model, tmp_path_factory.mktemp("approvals"))
    with config.open("a", encoding="utf-8") as file:
        file.write(f"agents:\n  approvers: ['@{defaults.LEADS_GROUP_HANDLE}']\n")
    world = Sandbox(load_settings(config))
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


def buttons(post: Message) -> dict[str, str]:
    """The buttons of a post's draft needing approval (else its first draft's; a ping's
    Approve): their action ids, each with its value."""
    rows = [
        {element["action_id"]: str(element["value"]) for element in block.get("elements", [])}
        for block in post.blocks or []
        if block.get("type") == "actions"
    ]
    return next((row for row in rows if REQUEST_APPROVAL_ACTION in row), rows[0] if rows else {})


async def refund_draft(
    sandbox: Sandbox, user_id: int, name: str
) -> tuple[JsonDict, Message, Message]:
    """A customer handed off asks for a refund: the customer, their card, and the drafts'
    post with the draft needing approval."""
    customer = telegram_user(user_id, first_name=name, username=f"{name.lower()}{user_id}")
    sandbox.customer_says("/human", customer=customer)
    await sandbox.bot_messages(1, customer=customer)
    mark = sandbox.slack.mark()
    sandbox.customer_says(REFUND, customer=customer)
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and REQUEST_APPROVAL_ACTION in json.dumps(c.params),
        since=mark,
        timeout=15,
    )
    username = f"{name.lower()}{user_id}"
    card = next(c for c in reversed(sandbox.cards()) if username in json.dumps(c.blocks))
    post = next(p for p in sandbox.thread(card) if REQUEST_APPROVAL_ACTION in buttons(p))
    return customer, card, post


async def after_alice_says(
    sandbox: Sandbox, text: str, card: Message, customer: JsonDict, seen: int
) -> list[str]:
    """Alice replies ``text`` in the thread: what the customer got after the first ``seen``
    messages, up to it (the customer's chat keeps the thread's order)."""
    await sandbox.agent_says("alice", card, text)
    received = await sandbox.bot_messages(seen + 1, customer=customer)
    while not any(text in m.text for m in received[seen:]):
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    return [m.text for m in received[seen:]]


async def press(
    sandbox: Sandbox, action: str, value: str, *, agent: str, post: Message, card: Message
) -> None:
    answer = await sandbox.slack_events.block_action(
        action,
        value,
        user=agent,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=post.ts,
        thread_ts=card.ts,
    )
    assert answer.status == 200


async def test_a_human_only_draft_is_sent_only_after_an_approvers_approval(
    sandbox: Sandbox,
) -> None:
    customer, card, post = await refund_draft(sandbox, 8901, "Rosa")
    draft = buttons(post)[REQUEST_APPROVAL_ACTION]
    assert "refund" in draft.lower()
    assert "only an approver can send" in json.dumps(post.blocks)
    assert EDIT_DRAFT_ACTION not in buttons(post)  # an edited reply would be Alice's own words
    seen = len(sandbox.customer_view(customer=customer))

    # Alice is no approver: her Send is refused, and so is an Approve she crafts.
    mark = sandbox.slack.mark()
    await press(sandbox, SEND_DRAFT_ACTION, draft, agent=defaults.ALICE_ID, post=post, card=card)
    await sandbox.slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: "Only an approver can send this reply" in json.dumps(c.params),
        since=mark,
    )
    crafted = json.dumps({"text": draft, "by": defaults.ALICE_ID, "post": post.ts})
    await press(sandbox, APPROVE_ACTION, crafted, agent=defaults.ALICE_ID, post=post, card=card)
    await sandbox.slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: "Only an approver can approve" in json.dumps(c.params),
        since=mark,
    )

    # Her request pings the approvers' group in the thread, with an Approve button.
    await press(
        sandbox, REQUEST_APPROVAL_ACTION, draft, agent=defaults.ALICE_ID, post=post, card=card
    )
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and APPROVE_ACTION in json.dumps(c.params),
        since=mark,
    )
    ping = next(p for p in sandbox.thread(card) if APPROVE_ACTION in buttons(p))
    assert f"<!subteam^{defaults.LEADS_GROUP_ID}>" in ping.text
    assert "Alice asks for approval" in ping.text

    # Bob approves (twice: a double click): it is sent, as Alice, once.
    approval = buttons(ping)[APPROVE_ACTION]
    await press(sandbox, APPROVE_ACTION, approval, agent=defaults.BOB_ID, post=ping, card=card)
    await press(sandbox, APPROVE_ACTION, approval, agent=defaults.BOB_ID, post=ping, card=card)
    await sandbox.slack.wait_for_call(
        "chat.update",
        lambda c: c.ok and c.params.get("ts") == ping.ts and "Bob approved" in json.dumps(c.params),
        since=mark,
    )
    texts = await after_alice_says(sandbox, "Anything else I can do?", card, customer, seen)
    assert sum(draft in text for text in texts) == 1
    assert any("Alice" in text for text in texts)  # introduced: the agent who asked is named

    # The audit trail: refused, refused, requested, approved.
    assert sandbox.service is not None
    assert sandbox.service.database is not None
    number = re.search(r"Handoff #(\d+)", json.dumps(card.blocks))
    assert number is not None
    trail = await Repository(database=sandbox.service.database).handoff_events(int(number.group(1)))
    kinds = {
        HandoffEventKind.APPROVAL_REFUSED,
        HandoffEventKind.APPROVAL_REQUESTED,
        HandoffEventKind.APPROVED,
    }
    approvals = [event for event in trail if event.kind in kinds]
    assert [(event.kind, event.actor_id) for event in approvals][:4] == [
        (HandoffEventKind.APPROVAL_REFUSED, defaults.ALICE_ID),
        (HandoffEventKind.APPROVAL_REFUSED, defaults.ALICE_ID),
        (HandoffEventKind.APPROVAL_REQUESTED, defaults.ALICE_ID),
        (HandoffEventKind.APPROVED, defaults.BOB_ID),
    ]
    assert all(event.detail and event.detail["text"] == draft for event in approvals)


async def test_an_approver_sends_a_human_only_draft_with_one_click(sandbox: Sandbox) -> None:
    customer, card, post = await refund_draft(sandbox, 8902, "Otto")
    draft = buttons(post)[SEND_DRAFT_ACTION]
    seen = len(sandbox.customer_view(customer=customer))
    await press(sandbox, SEND_DRAFT_ACTION, draft, agent=defaults.BOB_ID, post=post, card=card)
    received = await sandbox.bot_messages(seen + 1, customer=customer)
    while not any(draft in m.text for m in received[seen:]):
        received = await sandbox.bot_messages(len(received) + 1, customer=customer)
    assert any("Bob" in m.text for m in received[seen:])  # sent as the approver


async def test_an_approvers_decline_sends_nothing_and_is_recorded(sandbox: Sandbox) -> None:
    customer, card, post = await refund_draft(sandbox, 8903, "Vera")
    draft = buttons(post)[REQUEST_APPROVAL_ACTION]
    seen = len(sandbox.customer_view(customer=customer))
    mark = sandbox.slack.mark()
    await press(
        sandbox, REQUEST_APPROVAL_ACTION, draft, agent=defaults.ALICE_ID, post=post, card=card
    )
    await sandbox.slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and DECLINE_ACTION in json.dumps(c.params), since=mark
    )
    ping = next(p for p in sandbox.thread(card) if DECLINE_ACTION in buttons(p))
    value = buttons(ping)[DECLINE_ACTION]
    await press(sandbox, DECLINE_ACTION, value, agent=defaults.ALICE_ID, post=ping, card=card)
    await sandbox.slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: "Only an approver can approve or decline" in json.dumps(c.params),
        since=mark,
    )
    await press(sandbox, DECLINE_ACTION, value, agent=defaults.BOB_ID, post=ping, card=card)
    await sandbox.slack.wait_for_call(
        "chat.update",
        lambda c: c.ok and c.params.get("ts") == ping.ts and "Bob declined" in json.dumps(c.params),
        since=mark,
    )
    texts = await after_alice_says(sandbox, "I'll look into it myself.", card, customer, seen)
    assert not any(draft in text for text in texts)
    assert REQUEST_APPROVAL_ACTION in json.dumps(
        sandbox.slack.workspace.message(defaults.AGENTS_CHANNEL_ID, post.ts).blocks
    )  # the drafts stay: Alice may ask again

    assert sandbox.service is not None
    assert sandbox.service.database is not None
    number = re.search(r"Handoff #(\d+)", json.dumps(card.blocks))
    assert number is not None
    trail = await Repository(database=sandbox.service.database).handoff_events(int(number.group(1)))
    answered = [
        (event.kind, event.actor_id, (event.detail or {}).get("outcome"))
        for event in trail
        if event.kind in {HandoffEventKind.APPROVAL_REQUESTED, HandoffEventKind.APPROVAL_REFUSED}
    ]
    assert answered == [
        (HandoffEventKind.APPROVAL_REQUESTED, defaults.ALICE_ID, "ask_approvers"),
        (HandoffEventKind.APPROVAL_REFUSED, defaults.ALICE_ID, "refuse"),
        (HandoffEventKind.APPROVAL_REFUSED, defaults.BOB_ID, "decline"),
    ]
