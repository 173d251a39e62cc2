"""One Rasa: kill -9 of the process that manages Rasa never leaves a second Rasa behind.

``tandem run`` runs for real against both simulators (the chat tokens point at them); the
test kill -9s it, waits for its Rasa to go, starts it again and checks that exactly one Rasa
serves the models folder and answers the customer. A second test plays a platform without
a parent-death signal: there the orphan survives the kill, and the next start stops it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from bot.simulators.slack import SlackSimulator, defaults
from bot.simulators.telegram import TelegramSimulator, telegram_user
from nlu.models import ModelStore
from nlu.orphans import ServerRecords
from nlu.server import ManagedRasaServer
from tests.bot.test_settings import CHAT_VARIABLES
from tests.faults.harness import scenario_limit
from tests.support.rasa import REPO, project_with, ready_environment, store_with

pytestmark = [
    pytest.mark.rasa,
    pytest.mark.faults,
    pytest.mark.asyncio(loop_scope="module"),
    scenario_limit(180),
]

CUSTOMER_CHAT = 515151
SIGNING_SECRET = "fault-test-signing-secret"  # invented, for the simulator
STARTUP_TIMEOUT = 240.0  # a loaded 2-core machine; Rasa alone takes 15-60 s
GONE_TIMEOUT = 30.0
CUSTOMER = telegram_user(CUSTOMER_CHAT, first_name="Ada")


# --- what runs on this machine ------------------------------------------------------------


def live_processes() -> Iterator[tuple[int, list[str], list[str]]]:
    """Each live (not zombie) process: its pid, the fields of ``/proc/<pid>/stat`` after
    the command's name (state first), and its arguments."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            argv = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:  # gone while we looked
            continue
        fields = stat.rpartition(")")[2].split()
        if fields[0] not in {"Z", "X"}:
            yield int(entry.name), fields, [word.decode(errors="replace") for word in argv]


def rasa_processes(models: Path) -> list[int]:
    """The live ``rasa run`` processes serving a model from ``models``."""
    return sorted(
        pid
        for pid, _, words in live_processes()
        if "run" in words
        and any(word.endswith("/rasa") for word in words)
        and any(word.startswith(f"{models}/") for word in words)
    )


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    return sorted(pid for pid, fields, _ in live_processes() if int(fields[2]) == pgid)


async def until_no_rasa(models: Path) -> None:
    """Returns once no Rasa serves ``models``; fails after GONE_TIMEOUT seconds."""
    for _ in range(int(GONE_TIMEOUT / 0.1)):
        if not rasa_processes(models):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"Rasa still running {GONE_TIMEOUT:.0f} s later: {rasa_processes(models)}")


@contextmanager
def no_rasa_left_behind(models: Path) -> Iterator[None]:
    """Whatever the test found, leave no Rasa of this folder running on a shared machine."""
    try:
        yield
    finally:
        for pid in rasa_processes(models):
            os.kill(pid, signal.SIGKILL)


# --- `tandem run` against the simulators --------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platforms() -> AsyncIterator[tuple[TelegramSimulator, SlackSimulator]]:
    async with TelegramSimulator() as telegram, SlackSimulator() as slack:
        yield telegram, slack


def service_environment(telegram: TelegramSimulator, slack: SlackSimulator) -> dict[str, str]:
    """The real service's settings, with the platforms' URLs pointing at the simulators."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {*CHAT_VARIABLES, "DATABASE_URL", "REDIS_URL", "RASA_URL", "RASA_TOKEN"}
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.api_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        SLACK_AGENT_CHANNEL=defaults.AGENTS_CHANNEL_ID,
        TANDEM_HTTP_PORT="0",
    )
    return environment


async def start_tandem_run(
    project: Path, environment: dict[str, str], log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=project,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]


def greetings() -> set[str]:
    """What the bot may answer a greeting with (the shipped replies, named for Ada)."""
    raw = yaml.safe_load((REPO / "config" / "responses.yml").read_text(encoding="utf-8"))
    return {variant["text"].format(name="Ada") for variant in raw["intents"]["greet"]}


async def greeted(
    telegram: TelegramSimulator, service: asyncio.subprocess.Process, log: Path
) -> str:
    """The customer says hello; the bot's answer (Rasa understood it) once it arrives."""
    before = len(telegram.messages_to(CUSTOMER_CHAT))
    telegram.send_text(CUSTOMER_CHAT, "hello there", user=CUSTOMER)
    answer = asyncio.create_task(
        telegram.wait_for_messages(CUSTOMER_CHAT, before + 1, timeout=STARTUP_TIMEOUT)
    )
    exited = asyncio.create_task(service.wait())
    await asyncio.wait({answer, exited}, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if not answer.done():
        answer.cancel()
        pytest.fail(f"`tandem run` exited with {service.returncode}; its log ends:\n{tail(log)}")
    if answer.exception() is not None:
        pytest.fail(f"no answer to the customer ({answer.exception()}); log:\n{tail(log)}")
    return answer.result()[before].text


async def test_kill_9_of_tandem_run_leaves_exactly_one_rasa_after_the_restart(
    shipped_model: Path,
    platforms: tuple[TelegramSimulator, SlackSimulator],
    tmp_path: Path,
) -> None:
    telegram, slack = platforms
    project_with(shipped_model, tmp_path / "project")
    project, models = tmp_path / "project", tmp_path / "project" / "models"
    environment, log = service_environment(telegram, slack), tmp_path / "tandem-run.log"
    with no_rasa_left_behind(models):
        first = await start_tandem_run(project, environment, log)
        assert await greeted(telegram, first, log) in greetings()
        [rasa] = rasa_processes(models)
        assert group_members(rasa) == [rasa]  # Rasa runs alone: nothing else to outlive us

        first.send_signal(signal.SIGKILL)
        await first.wait()
        await until_no_rasa(models)

        second = await start_tandem_run(project, environment, log)
        try:
            assert await greeted(telegram, second, log) in greetings()
            serving = rasa_processes(models)
            assert len(serving) == 1, serving
            assert serving != [rasa]
        finally:
            second.send_signal(signal.SIGINT)
            await second.wait()
        assert rasa_processes(models) == []


# --- a platform without a parent-death signal ---------------------------------------------

# Runs a managed Rasa the way the service does, with the parent-death signal switched off
# (as on macOS), prints its pid and waits to be killed.
_WITHOUT_DEATH_SIGNAL = """
import asyncio, sys
from pathlib import Path
import nlu.lifetime
nlu.lifetime.die_with_parent = lambda: None
from nlu.models import ModelStore
from nlu.server import ManagedRasaServer
from tests.support.rasa import ready_environment

async def main():
    store = ModelStore(Path(sys.argv[1]))
    async with ManagedRasaServer(environment=ready_environment(), store=store) as server:
        print(server.pid, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_start_stops_the_orphan_an_earlier_run_left(
    shipped_model: Path, tmp_path: Path
) -> None:
    store = store_with(shipped_model, tmp_path / "models")
    with no_rasa_left_behind(store.directory):
        earlier = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WITHOUT_DEATH_SIGNAL,
            str(store.directory),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        assert earlier.stdout is not None
        line = await asyncio.wait_for(earlier.stdout.readline(), STARTUP_TIMEOUT)
        orphan = int(line)
        earlier.send_signal(signal.SIGKILL)
        await earlier.wait()
        assert rasa_processes(store.directory) == [orphan]  # nothing made it die

        server = ManagedRasaServer(
            environment=ready_environment(), store=ModelStore(store.directory)
        )
        records = ServerRecords(store.directory)
        async with server:
            assert rasa_processes(store.directory) == [server.pid]
            assert [record.pid for record in records.load()] == [server.pid]
            result = await server.parse("hello there")
            assert result.intent is not None
            assert result.intent.name == "greet"
        assert rasa_processes(store.directory) == []
        assert records.load() == []
