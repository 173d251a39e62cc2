"""What operators watch, end to end through both simulators: /metrics read with
prometheus-client's own parser after a conversation the bot answered and one a person
took over; /readyz for load balancers."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.sandbox.world import Sandbox
from tests.e2e import test_agent_flow
from tests.e2e.test_agent_flow import AGENTS, Customer

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
sandbox = test_agent_flow.sandbox  # the same fixture: a running service of this module's own

FAMILIES = {
    "tandem_messages": "counter",
    "tandem_decisions": "counter",
    "tandem_handoffs": "counter",
    "tandem_failed_deliveries": "counter",
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
