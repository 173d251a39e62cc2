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
from tests.e2e.test_agent_flow import Customer, thread_post
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


async def test_an_unclaimed_handoff_is_repinged_then_escalated(sandbox: Sandbox) -> None:
    customer = Customer(sandbox)
    card = await customer.hands_off()
    assert "waited since <!date^" in json.dumps(card.blocks)

    mark = sandbox.slack.mark()
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
    await sandbox.later(310)
    ping = await thread_post(sandbox, card, "has had no reply from you", since=mark)
    assert ping["text"].startswith(f"<@{defaults.ALICE_ID}> ")
    await sandbox.later(310)
    assert len([m for m in sandbox.thread(card) if "no reply from you" in m.text]) == 1
