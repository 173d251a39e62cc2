"""The offline sandbox as a person uses it: `tandem demo`, `tandem run` without tokens, and
the console's commands, all against the real service and both simulators."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox.console import Console
from bot.sandbox.world import Sandbox
from bot.settings import load_settings
from tests.bot.test_settings import CHAT_VARIABLES
from tests.support.rasa import project_with

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def project(shipped_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder whose config uses the shipped model and the shipped replies."""
    root = tmp_path_factory.mktemp("sandbox-project")
    project_with(shipped_model, root)
    return root


def tandem(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in CHAT_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


async def test_the_demo_passes_and_prints_both_transcripts(project: Path) -> None:
    done = await asyncio.to_thread(tandem, project, "demo")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count(": ok") == 9
    assert "=== Telegram: what the customer saw ===" in out
    assert "=== Slack: what the agents saw in #support-agents ===" in out
    assert "Rating: ★★★★★ (5/5)" in out
    assert out.strip().endswith("demo passed: every step happened")
    assert "Traceback" not in done.stderr


async def test_run_without_any_chat_token_starts_the_sandbox(project: Path) -> None:
    done = await asyncio.to_thread(tandem, project, "run")
    assert done.returncode == 0, done.stderr
    assert "starting the offline sandbox" in done.stdout
    assert ":press N" in done.stdout  # the console's help: it was ready for input


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def console(project: Path) -> AsyncIterator[tuple[Console, list[str], Sandbox]]:
    world = Sandbox(load_settings(project / "config" / "tandem.yml"))
    await world.start()
    printed: list[str] = []
    try:
        yield Console(world, out=printed.append), printed, world
    finally:
        await world.stop()


async def test_the_console_plays_both_sides(
    console: tuple[Console, list[str], Sandbox],
) -> None:
    terminal, printed, world = console
    await terminal.do("/start")
    [greeting] = await world.bot_messages(1)
    await terminal.do(":press 1")  # "Talk to a person"
    await world.bot_messages(2)
    await world.slack.wait_for_call("chat.postMessage", timeout=15)
    await terminal.do(":claim bob")
    await world.slack.wait_for_call("chat.update", timeout=15)
    await terminal.do(":bob Hello from Bob")
    messages = await world.bot_messages(4)
    assert messages[-1].text == "Hello from Bob"
    await terminal.do(":cards")
    assert any("Handoff #1" in line for line in printed)
    with pytest.raises(LookupError):
        await terminal.do(":press 9")
    with pytest.raises(ValueError, match="unknown command"):
        await terminal.do(":frobnicate")
    assert greeting.buttons
