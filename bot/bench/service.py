"""The service under load: ``tandem run`` in a child process (so that /proc counts its CPU
apart from the load generator's), configured as the operator's, but pointed at the
simulators, with its own data folder, storage and copy of the model, and Telegram's pacing
lifted by its setting (``telegram.limits``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import BaseModel

from bot.bench.cpu import descendants
from bot.bench.errors import BenchError
from bot.settings import Settings
from bot.simulators.slack import SlackSimulator, defaults
from bot.simulators.telegram import TelegramSimulator
from nlu.lifetime import die_with_parent

# Invented for the simulated Slack; not a secret of anything real.
SIGNING_SECRET = "bench-signing-secret"  # noqa: S105
# The parent's settings must not reach the child: it gets exactly the ones below.
_OURS = ("TELEGRAM_", "SLACK_", "TANDEM_", "RASA_", "DATABASE_URL", "REDIS_URL")
_PROXIES = ("http_proxy", "https_proxy", "all_proxy")
_STOP_GRACE = 30.0
_LOOK_INTERVAL = 0.25
_LOG_TAIL = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    """Where the service keeps its data: None is the embedded default (SQLite in its data
    folder, live state in the process)."""

    database_url: str | None = None
    redis_url: str | None = None
    key_prefix: str = "tandem"


def bench_config(
    settings: Settings, *, folder: Path, models: Path, rasa_environment: Path, storage: Storage
) -> dict[str, Any]:
    """The operator's settings with every path absolute, the data in ``folder``, the models
    in ``models``, and no pacing."""
    config = settings.config.model_dump(mode="json")
    _absolute_paths(settings, settings.config, config)
    config["data_dir"] = str(folder / "data")
    config["nlu"]["models_dir"] = str(models)
    config["nlu"]["environment"]["path"] = str(rasa_environment)
    config["state"]["key_prefix"] = storage.key_prefix
    config["telegram"] = {"limits": {"per_chat_per_second": None, "per_bot_per_second": None}}
    return config


def _absolute_paths(settings: Settings, section: BaseModel, dumped: dict[str, Any]) -> None:
    """Every path setting in ``dumped`` resolved as the operator's file has it: the
    service's config lives in another folder."""
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            _absolute_paths(settings, value, dumped[name])
        elif isinstance(value, Path):
            dumped[name] = str(settings.path(value))


def child_environment(base: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """``base`` without Tandem's own variables and proxies (all traffic is local), plus
    ``values``."""
    kept = {
        name: value
        for name, value in base.items()
        if not name.upper().startswith(_OURS) and name.lower() not in _PROXIES
    }
    return {**kept, **values}


class ServiceProcess:
    """``async with ServiceProcess(...) as service:`` then :attr:`pid`, :meth:`rasa_pids`."""

    def __init__(
        self,
        *,
        config: dict[str, Any],
        folder: Path,
        telegram: TelegramSimulator,
        slack: SlackSimulator,
        storage: Storage,
        startup_timeout: float,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        """``variables``: more environment for the service (e.g. ``RASA_URL``, a webhook)."""
        self._folder = folder
        self._more = dict(variables or {})
        self._config = config
        self._telegram = telegram
        self._slack = slack
        self._storage = storage
        self._startup_timeout = startup_timeout
        self._port = _free_port()
        self._process: asyncio.subprocess.Process | None = None
        self.log = folder / "service.log"

    @property
    def pid(self) -> int:
        assert self._process is not None, "start the service first"
        return self._process.pid

    @property
    def port(self) -> int:
        """Where its HTTP server (health, Slack events, Telegram's webhook) listens."""
        return self._port

    def rasa_pids(self) -> list[int]:
        """The service's managed Rasa (and anything it started)."""
        found = descendants(self.pid)
        if not found:
            raise BenchError(f"the service's Rasa process is not running; see {self.log}")
        return found

    async def __aenter__(self) -> ServiceProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        config_file = self._folder / "config" / "tandem.yml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(yaml.safe_dump(self._config, sort_keys=False), encoding="utf-8")
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self._folder,
                env=child_environment(os.environ, self._variables(config_file)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=die_with_parent(),  # a benchmark killed leaves no service behind
            )
        try:
            await self._until_healthy()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), _STOP_GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def kill(self) -> None:
        """Dies at once (SIGKILL), as a crash or the OOM killer would: no stop, no drain.
        :meth:`start` brings it back on the same data folder and port."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()

    def _variables(self, config_file: Path) -> dict[str, str]:
        values = {
            "TANDEM_CONFIG": str(config_file),
            "TELEGRAM_BOT_TOKEN": self._telegram.token,
            "TELEGRAM_API_URL": self._telegram.api_url,
            "SLACK_BOT_TOKEN": self._slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self._slack.api_url,
            "SLACK_AGENT_CHANNEL": defaults.AGENTS_CHANNEL_ID,
            "TANDEM_HTTP_HOST": "127.0.0.1",
            "TANDEM_HTTP_PORT": str(self._port),
        }
        if self._storage.database_url:
            values["DATABASE_URL"] = self._storage.database_url
        if self._storage.redis_url:
            values["REDIS_URL"] = self._storage.redis_url
        return {**values, **self._more}

    async def _until_healthy(self) -> None:
        """Until /healthz answers with the NLU up (the managed Rasa has loaded the model)."""
        url = f"http://127.0.0.1:{self._port}/healthz"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_timeout
        async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
            while True:
                process = self._process
                assert process is not None
                if process.returncode is not None:
                    raise BenchError(
                        f"the service exited with code {process.returncode} while starting: "
                        + self._tail()
                    )
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    answer = await client.get(url)
                    if answer.status_code == 200 and answer.json()["checks"].get("nlu") == "ok":
                        return
                if loop.time() > deadline:
                    raise BenchError(
                        f"the service was not healthy within {self._startup_timeout:.0f} s: "
                        + self._tail()
                    )
                await asyncio.sleep(_LOOK_INTERVAL)

    def _tail(self) -> str:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return " | ".join(lines[-_LOG_TAIL:]) + f" (all of it in {self.log})"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
