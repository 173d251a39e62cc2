"""Out of business hours, end to end: the desk is closed today and tomorrow (UTC)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from handoff.model import Mode
from tests.e2e.test_agent_flow import Customer, mode_of, thread_post
from tests.e2e.test_sla import told
from tests.support.rasa import project_with

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
TODAY = datetime.now(UTC).date()
CLOSED = [TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Sandbox]:
    config = project_with(shipped_model, tmp_path_factory.mktemp("hours"))
    dates = ", ".join(day.isoformat() for day in CLOSED)
    with config.open("a", encoding="utf-8") as file:
        file.write(f"agents:\n  hours:\n    time_zone: UTC\n    closed_dates: [{dates}]\n")
    world = Sandbox(load_settings(config))
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def test_an_out_of_hours_handoff_is_marked_told_and_its_clocks_pause(
    sandbox: Sandbox,
) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    assert "Out of hours" in json.dumps(card.blocks)

    message = await told(sandbox, customer, "away right now")
    back = (TODAY + timedelta(days=2)).strftime("%A %d %B")
    assert f"people are back {back}, 00:00 (UTC)" in message.text
    assert "getting a person" in message.text  # one message, in place of the queue
    labels = [label for row in message.buttons for label, _ in row]
    assert labels == ["Back to the bot", "Leave a message for later"]

    mark = sandbox.slack.mark()
    assert await sandbox.later(5_000) == 0  # no re-ping, escalation nor wait update
    assert [c for c in sandbox.slack.calls[mark:] if c.method == "chat.postMessage"] == []

    sandbox.customer_presses(message, "wait:bot", customer=customer.user)
    await customer.receives("back with the automated assistant")
    await thread_post(sandbox, card, "returned this conversation to the bot", since=mark)
    assert await mode_of(sandbox, customer) is Mode.BOT
