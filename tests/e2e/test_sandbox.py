"""The offline sandbox as a person uses it: `tandem demo`, `tandem run` without tokens on a
terminal (stopped by Ctrl-C), `tandem sandbox` stopped by SIGTERM or fed a script, and the
console's commands, all against the real service and both simulators."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
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


def tandem(project: Path, *args: str, feed: str | None = None) -> subprocess.CompletedProcess[str]:
    """``tandem ARGS`` with ``feed`` as its input (nothing: /dev/null); not on a terminal."""
    environment = {k: v for k, v in os.environ.items() if k not in CHAT_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL if feed is None else None,
        input=feed,
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


class Terminal:
    """``tandem ARGS`` on a pseudo-terminal of its own, as a person starts it."""

    def __init__(self, project: Path, *args: str) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in CHAT_VARIABLES}
        self.pid, self._fd = pty.fork()
        if self.pid == 0:  # the child: become tandem at once
            os.chdir(project)
            os.execve(sys.executable, [sys.executable, "-m", "bot", *args], environment)
        self._output = b""

    @property
    def output(self) -> str:
        return self._output.decode(errors="replace").replace("\r\n", "\n")

    def wait_for(self, text: str, *, limit: float) -> None:
        """Until ``text`` appears on the screen (failing after ``limit`` seconds)."""
        deadline = time.monotonic() + limit
        while text not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} did not appear; the screen:\n{self.output}"
            self._read(left)

    def type(self, keys: bytes) -> None:
        os.write(self._fd, keys)

    def exit_code(self, *, limit: float) -> int:
        """The exit code once the process has ended (failing after ``limit`` seconds)."""
        deadline = time.monotonic() + limit
        while (ended := os.waitpid(self.pid, os.WNOHANG))[0] == 0:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                pytest.fail(f"still running after {limit} s; the screen:\n{self.output}")
            self._read(min(left, 0.5))
        self._read(0)  # the last words
        os.close(self._fd)
        return os.waitstatus_to_exitcode(ended[1])

    def _read(self, limit: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], limit)
        if ready:
            with contextlib.suppress(OSError):  # EIO: the process has ended
                self._output += os.read(self._fd, 65536)


def processes_mentioning(text: str) -> list[str]:
    """The command lines of running processes that contain ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # it ended meanwhile
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if text in command:
                found.append(command)
    return found


@pytest.fixture
def own_project(shipped_model: Path, tmp_path: Path) -> Path:
    """A project no other test's Rasa serves: what runs from it after a test is an orphan."""
    project_with(shipped_model, tmp_path)
    return tmp_path


async def stopped_at_the_prompt(
    project: Path, command: str, stop: Callable[[Terminal], None]
) -> str:
    """Start ``tandem COMMAND`` in a terminal, wait for its prompt, ``stop`` it; the screen."""

    def session() -> str:
        terminal = Terminal(project, command)
        terminal.wait_for(":help, :quit\n> ", limit=240)
        stop(terminal)
        code = terminal.exit_code(limit=60)  # before: it waited for Enter
        assert code == 0, terminal.output
        return terminal.output

    screen = await asyncio.to_thread(session)
    assert "stopping the sandbox..." in screen
    assert "Traceback" not in screen
    assert processes_mentioning(str(project)) == []  # the managed Rasa stopped with it
    return screen


async def test_run_on_a_terminal_without_tokens_starts_the_sandbox_and_ctrl_c_stops_it(
    own_project: Path,
) -> None:
    screen = await stopped_at_the_prompt(own_project, "run", lambda t: t.type(b"\x03"))
    assert "starting the offline sandbox" in screen
    assert "^C" in screen  # the terminal's own Ctrl-C, to the foreground process group


async def test_sigterm_stops_the_sandbox_cleanly(own_project: Path) -> None:
    await stopped_at_the_prompt(own_project, "sandbox", lambda t: os.kill(t.pid, signal.SIGTERM))


async def test_the_sandbox_reads_a_script_without_a_terminal(project: Path) -> None:
    done = await asyncio.to_thread(tandem, project, "sandbox", feed=":cards\n:frobnicate\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "! unknown command :frobnicate (:help lists them)" in done.stdout
    assert "Traceback" not in done.stderr


async def test_a_script_acts_on_what_each_line_caused_and_its_end_cuts_nothing_off(
    project: Path,
) -> None:
    # Each line waits for the one before: :claim finds the card that /human opened, and
    # the agent's last reply still reaches Telegram before the input ends.
    script = "/human\n:claim alice\n:alice Hello from Alice\n"
    done = await asyncio.to_thread(tandem, project, "sandbox", feed=script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "! " not in done.stdout
    assert "Handoff #1" in done.stdout
    assert "[telegram]  Tandem < Hello from Alice" in done.stdout


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


async def test_the_console_shows_a_sensitive_draft_and_its_approval(project: Path) -> None:
    # With no approvers configured, the console's are the simulator's @support-leads (Bob).
    script = (
        "/human\n"
        "I want a refund for last month, I was charged twice\n"
        ":send alice\n"
        ":request alice\n"
        ":approve bob\n"
    )
    done = await asyncio.to_thread(tandem, project, "sandbox", feed=script)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "! " not in out
    assert "(Sensitive topic: only an approver can send this reply" in out
    assert "[Send] [Request approval]" in out
    assert "[only U0AGENT1] Only an approver can send this reply" in out  # Alice's Send
    assert "Alice asks for approval to send this reply" in out
    assert "[Approve and send]" in out
    assert "Bob approved; Alice sent a suggested reply" in out
    assert "[telegram]  Tandem < I've looked at your payments" in out
