"""What the service does between building and serving, so that its event loop (every
customer at once) does not pay for it later: the start-up encodes run in threads, the
personal-data matchers are loaded, and what ``tandem run`` built is frozen out of the
garbage collector's scans.

Each start runs in a Python process of its own: what these tests look at (modules loaded,
the collector's frozen objects) is process-wide, and other tests change it too."""

from __future__ import annotations

import dataclasses
import gc
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import AnyHttpUrl

from bot.app import Service
from bot.http import HttpServer
from bot.sandbox.world import sandbox_settings
from bot.settings import load_settings
from bot.simulators.slack import SlackSimulator
from bot.simulators.telegram import TelegramSimulator
from nlu.minilm import MiniLmEncoder
from tests.support.ports import free_port

REPO = Path(__file__).parents[2]
_PHONE_METADATA = "phonenumbers.data.region_"


async def _start_and_stop(folder: Path, *, settle_heap: bool) -> dict[str, Any]:
    """Starts and stops a service against the simulators, with Rasa away (the service
    comes up without it) and the embedding model fitted on the shipped examples; returns
    what had happened when its HTTP server, the first part that serves, started."""
    loop_thread = threading.get_ident()
    on_the_loop: list[int] = []
    seen: dict[str, Any] = {}
    encode, serve = MiniLmEncoder.encode, HttpServer.start

    # Spies on the real encoder and server: they note, then do the real work.
    def noting_encode(self: MiniLmEncoder, texts: Any) -> Any:
        if threading.get_ident() == loop_thread:
            on_the_loop.append(len(texts))
        return encode(self, texts)

    async def noting_start(self: HttpServer) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["phone_metadata"] = any(name.startswith(_PHONE_METADATA) for name in sys.modules)
        seen["encodes_on_the_loop"] = list(on_the_loop)
        await serve(self)

    MiniLmEncoder.encode = noting_encode  # type: ignore[method-assign]
    HttpServer.start = noting_start  # type: ignore[method-assign]
    seen["phone_metadata_before"] = any(name.startswith(_PHONE_METADATA) for name in sys.modules)
    config = folder / "tandem.yml"
    config.write_text(
        f"data_dir: {folder / 'data'}\n"
        f"nlu:\n  project_dir: {REPO / 'nlu'}\n  models_dir: {folder / 'models'}\n"
        f"conversation:\n  responses_file: {REPO / 'config' / 'responses.yml'}\n"
        f"  agents_file: {REPO / 'config' / 'agents.yml'}\n",
        encoding="utf-8",
    )
    base = load_settings(config, environ={})
    nowhere = AnyHttpUrl(f"http://127.0.0.1:{free_port()}")
    base = dataclasses.replace(base, env=base.env.model_copy(update={"rasa_url": nowhere}))
    telegram, slack = TelegramSimulator(), SlackSimulator()
    await telegram.start()
    await slack.start()
    try:
        settings = sandbox_settings(
            base, telegram=telegram, slack=slack, database=folder / "service.db"
        )
        service = Service(settings, settle_heap=settle_heap)
        await service.start()
        await service.stop()
    finally:
        await telegram.stop()
        await slack.stop()
    return seen


def _started_alone(folder: Path, *, settle_heap: bool) -> dict[str, Any]:
    """:func:`_start_and_stop` in a fresh Python process."""
    code = (
        "import asyncio, json, pathlib, sys\n"
        "from tests.bot.test_service_start import _start_and_stop\n"
        "seen = asyncio.run(_start_and_stop(pathlib.Path(sys.argv[1]), "
        f"settle_heap={settle_heap}))\n"
        "print(json.dumps(seen))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


@pytest.fixture(scope="module")
def started_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _started_alone(tmp_path_factory.mktemp("alone"), settle_heap=True)


def test_tandem_run_freezes_what_its_start_built_before_it_serves(
    started_alone: dict[str, Any],
) -> None:
    assert started_alone["frozen"] > 0


def test_the_personal_data_matchers_are_loaded_before_the_service_serves(
    started_alone: dict[str, Any],
) -> None:
    # Not by the start's imports: by masking a text of every kind before serving.
    assert started_alone["phone_metadata_before"] is False
    assert started_alone["phone_metadata"] is True


def test_the_start_encodes_nothing_on_the_event_loop(started_alone: dict[str, Any]) -> None:
    # The embedding model's fit (720 examples) and the frustration detector's check of its
    # vectors' size both read with MiniLM.
    assert started_alone["encodes_on_the_loop"] == []


def test_a_service_among_others_in_one_process_freezes_nothing(tmp_path: Path) -> None:
    # The sandbox restarts its service, the tests start hundreds: a freeze would keep each
    # earlier service's garbage.
    assert _started_alone(tmp_path, settle_heap=False)["frozen"] == 0
