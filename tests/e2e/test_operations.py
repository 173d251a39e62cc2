"""What operators watch, end to end through both simulators: /metrics read with
prometheus-client's own parser after a conversation the bot answered and one a person
took over; /readyz for load balancers."""

from __future__ import annotations

import json

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.sandbox.world import Sandbox
from tests.e2e import test_agent_flow
from tests.e2e.test_agent_flow import AGENTS, Customer, thread_post

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
sandbox = test_agent_flow.sandbox  # the same fixture: a running service of this module's own

FAMILIES = {
    "tandem_messages": "counter",
    "tandem_decisions": "counter",
    "tandem_handoffs": "counter",
    "tandem_failed_deliveries": "counter",
    "tandem_retracted_answers": "counter",
    "tandem_conversations": "counter",
    "tandem_ratings": "counter",
    "tandem_nlu_parse_seconds": "histogram",
    "tandem_update_to_reply_seconds": "histogram",
    "tandem_time_to_claim_seconds": "histogram",
    "tandem_first_response_seconds": "histogram",
    "tandem_resolution_seconds": "histogram",
    "tandem_handoffs_waiting": "gauge",
    "tandem_handoffs_claimed": "gauge",
}


async def get(sandbox: Sandbox, path: str) -> tuple[int, str]:
    assert sandbox.service is not None
    assert sandbox.service.http is not None
    url = f"http://127.0.0.1:{sandbox.service.http.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


async def test_metrics_after_an_answer_and_a_handoff(sandbox: Sandbox) -> None:
    answered = Customer(sandbox)
    answered.says("hello")
    await answered.receives("")
    handed = Customer(sandbox)
    card = await handed.hands_off()
    await sandbox.agent_says("alice", card, "Hi, Alice here.")
    await handed.receives("Hi, Alice here.")

    status, text = await get(sandbox, "/metrics")

    assert status == 200
    parsed = list(text_string_to_metric_families(text))
    types = {family.name: family.type for family in parsed}
    assert FAMILIES.items() <= types.items()
    samples = [sample for family in parsed for sample in family.samples]
    assert value(samples, "tandem_record_up") == 1
    assert value(samples, "tandem_nlu_parse_seconds_count") >= 1
    assert value(samples, "tandem_update_to_reply_seconds_count") >= 2
    assert value(samples, "tandem_handoffs_total", reason="person_requested", route=AGENTS) >= 1
    assert value(samples, "tandem_messages_total", direction="inbound", author="customer") >= 2
    assert value(samples, "tandem_messages_total", direction="outbound", author="agent") >= 1
    assert value(samples, "tandem_decisions_total", action="answer") >= 1
    assert value(samples, "tandem_first_response_seconds_count") >= 1
    assert value(samples, "tandem_handoffs_claimed") >= 1


async def test_readyz_names_what_it_checked(sandbox: Sandbox) -> None:
    status, text = await get(sandbox, "/readyz")
    assert status == 200
    assert all(f'"{name}": "ok"' in text for name in ("database", "state", "nlu"))


async def test_each_reply_is_marked_where_the_agent_typed_it(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    mark = sandbox.slack.mark()
    delivered, _ = await sandbox.agent_says("alice", card, "Hi, Alice here.")
    await customer.receives("Hi, Alice here.")
    await sandbox.slack.wait_for_call(
        "reactions.add",
        lambda c: c.ok and c.params.get("timestamp") == delivered.ts,
        since=mark,
        timeout=15,
    )

    sandbox.telegram.block(int(customer.user["id"]))
    mark = sandbox.slack.mark()
    failed, _ = await sandbox.agent_says("alice", card, "Are you still there?")
    note = await thread_post(sandbox, card, "has blocked the bot", since=mark)

    reactions = {
        m.ts: {r.name for r in m.reactions} for m in sandbox.slack.messages_in(AGENTS, card.ts)
    }
    assert reactions[delivered.ts] == {"white_check_mark"}
    assert reactions[failed.ts] == {"x"}
    assert "Alice" in note["text"]

    # Unblocked, the bot can reach the customer again: Retry sends the reply.
    sandbox.telegram.unblock(int(customer.user["id"]))
    mark = sandbox.slack.mark()
    await sandbox.agent_presses_privacy("bob", "tandem_retry")
    await customer.receives("Are you still there?")
    await sandbox.slack.wait_for_call(
        "reactions.add",
        lambda c: c.ok and c.params.get("timestamp") == failed.ts,
        since=mark,
        timeout=15,
    )


async def test_an_agents_edit_and_deletion_reach_telegram(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    reply, _ = await sandbox.agent_says("alice", card, "Your refund is 50 EUR.")
    await customer.receives("Your refund is 50 EUR.")

    mark = sandbox.slack.mark()
    await sandbox.agent_revises("alice", card, reply, "Your refund is 40 EUR.")
    await thread_post(sandbox, card, "edited a reply", since=mark)
    mark = sandbox.slack.mark()
    await sandbox.agent_revises("alice", card, reply, None)
    await thread_post(sandbox, card, "deleted a reply", since=mark)

    view = sandbox.customer_view(customer=customer.user)
    (seen,) = [m for m in view if m.text == "Your refund is 40 EUR."]
    assert seen.edited
    assert seen.deleted
    assert not any("50 EUR" in text for text in customer.view())


async def test_an_agents_edit_of_a_reply_sent_in_parts_reaches_every_part(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    paragraph = "Step: " + "check the settings page again " * 33 + "done.\n"  # 1,000 chars
    long = "Here is the whole procedure.\n" + paragraph * 5 + "That is all."  # 2 messages
    reply, _ = await sandbox.agent_says("alice", card, long)
    await customer.receives("That is all.")  # the second part: the first came before it
    count = len(sandbox.customer_view(customer=customer.user))

    edited = "Here is the corrected procedure.\n" + paragraph * 4 + "Step: reboot. That is all."
    mark = sandbox.slack.mark()
    await sandbox.agent_revises("alice", card, reply, edited)
    await thread_post(sandbox, card, "edited a reply", since=mark)

    view = sandbox.customer_view(customer=customer.user)
    assert len(view) == count  # edited in place: nothing new
    parts = view[-2:]
    assert "\n".join(m.text for m in parts) == edited
    assert [m.edited for m in parts] == [True, True]

    mark = sandbox.slack.mark()
    await sandbox.agent_revises("alice", card, reply, None)
    await thread_post(sandbox, card, "deleted a reply", since=mark)
    assert [m.deleted for m in sandbox.customer_view(customer=customer.user)[-2:]] == [True, True]


async def test_a_customers_edit_shows_in_place_in_the_thread(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    chat = int(customer.user["id"])
    mark = sandbox.slack.mark()
    sent = sandbox.telegram.send_text(chat, "my order is 1234", user=customer.user)
    await thread_post(sandbox, card, "my order is 1234", since=mark)

    mark = sandbox.slack.mark()
    assert sent.message_id is not None
    sandbox.telegram.edit_text(chat, sent.message_id, "my order is 1243")
    update = await sandbox.slack.wait_for_call(
        "chat.update",
        lambda c: c.ok and "my order is 1243" in json.dumps(c.params),
        since=mark,
        timeout=15,
    )

    shown = {m.ts: m.text for m in sandbox.slack.messages_in(AGENTS, card.ts)}
    assert "(edited)" in shown[update.params["ts"]]
    assert not any("1234" in text for text in shown.values())  # in place, not beside it


async def test_an_agent_retracts_the_bots_last_answer(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    customer.says("hello")
    answer = await customer.receives("")
    card = await customer.hands_off()

    mark = sandbox.slack.mark()
    await sandbox.agent_presses("alice", card, "retract")
    await thread_post(sandbox, card, "retracted the bot's last answer", since=mark)

    view = sandbox.customer_view(customer=customer.user)
    (gone,) = [m for m in view if m.message_id == answer.message_id]
    assert gone.deleted
