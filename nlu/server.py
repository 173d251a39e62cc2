"""The Rasa server Tandem manages: started, watched, restarted, reloaded and stopped here.

``rasa run --enable-api`` is bound to 127.0.0.1 on a free port and protected by a random
token. When the process dies it is restarted with a growing delay; while it is down,
:meth:`ManagedRasaServer.parse` raises :class:`NluUnavailable` at once so the caller can hand
the conversation to a person instead of waiting. When training installs a new current model,
it is loaded into the running server with ``PUT /model``; the service keeps running.

One Rasa per service, however the service ends: on Linux the kernel kills Rasa when the
service dies (:mod:`nlu.lifetime`), and every server is written down in the models folder so
that a start stops one an earlier run left behind (:mod:`nlu.orphans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

from nlu import lifetime
from nlu.client import ParseResult, RasaClient
from nlu.environment import RasaEnvironment
from nlu.errors import NluError, NluUnavailable, RasaServerError
from nlu.models import ModelStore
from nlu.orphans import ServerRecords, stop_orphans
from nlu.process import rasa_subprocess_environment, strip_ansi

logger = logging.getLogger(__name__)
rasa_logger = logging.getLogger("nlu.rasa")

_STOP_GRACE_SECONDS = 10.0
_HEALTHY_AFTER_SECONDS = 60.0  # up this long: the next crash starts the back-off afresh
# One process: the death signal and the orphan check then reach all of Rasa. (Rasa runs
# more only with a Redis lock store, which Tandem never configures; this makes it certain.)
_ONE_PROCESS = {"SANIC_WORKERS": "1"}


class ManagedRasaServer:
    """A supervised ``rasa run`` process; implements the engine's ``NluParser`` port."""

    def __init__(
        self,
        *,
        environment: RasaEnvironment,
        store: ModelStore,
        host: str = "127.0.0.1",
        startup_timeout: float = 180.0,
        restart_delay_max: float = 30.0,
        parse_timeout: float = 3.0,
        model_check_interval: float = 2.0,
    ) -> None:
        self._environment = environment
        self._store = store
        self._host = host
        self._startup_timeout = startup_timeout
        self._restart_delay_max = restart_delay_max
        self._parse_timeout = parse_timeout
        self._model_check_interval = model_check_interval
        self._process: asyncio.subprocess.Process | None = None
        self._records = ServerRecords(store.directory)
        self._client: RasaClient | None = None
        self._loaded: Path | None = None
        self._tail: deque[str] = deque(maxlen=30)
        self._tasks: list[asyncio.Task[None]] = []
        self._output_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._listeners: list[Callable[[Path], Awaitable[object]]] = []
        self.restarts = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the server and return once it answers with the current model loaded."""
        self._environment.require_ready()
        if self._store.current() is None:
            raise RasaServerError(
                f"no trained NLU model in {self._store.directory}: run `tandem nlu train`"
            )
        self._stopping.clear()
        await stop_orphans(self._records, grace=_STOP_GRACE_SECONDS)
        await self._launch()
        self._tasks = [
            asyncio.create_task(self._supervise(), name="rasa-supervisor"),
            asyncio.create_task(self._watch_models(), name="rasa-model-watcher"),
        ]

    async def stop(self) -> None:
        """Stop supervising and terminate the server (SIGTERM, then SIGKILL)."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._terminate()

    async def __aenter__(self) -> ManagedRasaServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what callers use ---------------------------------------------------------------

    @property
    def url(self) -> str | None:
        return self._client.base_url if self._client else None

    @property
    def token(self) -> str | None:
        """The server's auth token, for another client of it (``RASA_TOKEN``)."""
        return self._client.token if self._client else None

    @property
    def loaded_model(self) -> Path | None:
        return self._loaded

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.returncode is None else None

    async def parse(self, text: str) -> ParseResult:
        client = self._client
        if client is None:
            raise NluUnavailable("the Rasa server is (re)starting")
        return await client.parse(text)

    def on_model_loaded(self, listener: Callable[[Path], Awaitable[object]]) -> None:
        """Call ``listener`` with each model the server loads after starting (a reload, or a
        restart that found a newer current model), once it serves."""
        self._listeners.append(listener)

    async def _announce(self, model: Path) -> None:
        for listener in self._listeners:
            await listener(model)

    async def reload(self) -> bool:
        """Load the store's current model if the server has another. True if it loaded."""
        current = self._store.current()
        client = self._client
        if current is None or current == self._loaded or client is None:
            return False
        logger.info("loading NLU model %s into the running Rasa server", current.name)
        await client.load_model(current)
        self._loaded = current
        logger.info("NLU model %s is now serving", current.name)
        await self._announce(current)
        return True

    # --- internals ----------------------------------------------------------------------

    async def _launch(self) -> None:
        model = self._store.current()
        if model is None:
            raise RasaServerError(f"no trained NLU model in {self._store.directory}")
        port = _free_port(self._host)
        token = secrets.token_hex(24)  # hex: a leading "-" would read as an option
        self._tail.clear()
        argv = [
            str(self._environment.rasa),
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--interface",
            self._host,
            "--port",
            str(port),
            "--auth-token",
            token,
        ]
        try:
            self._process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env=rasa_subprocess_environment(_ONE_PROCESS),
                start_new_session=True,  # its own process group: not stopped by our Ctrl-C
                preexec_fn=lifetime.die_with_parent(),  # thread-safe as written: nlu.lifetime
            )
        except subprocess.SubprocessError as exc:  # the death signal could not be armed
            raise RasaServerError(f"could not start the Rasa server: {exc}") from exc
        self._output_task = asyncio.create_task(self._pump_output(self._process))
        client = RasaClient(
            base_url=f"http://{self._host}:{port}", token=token, timeout=self._parse_timeout
        )
        try:
            # In a thread: reading a process caught mid-exec waits (up to 0.5 s) for its
            # command line, and a restart happens while the loop serves customers.
            await asyncio.to_thread(self._records.add, pid=self._process.pid, argv=argv)
            await self._wait_until_ready(client)
        except BaseException:
            await client.aclose()
            await self._terminate()
            raise
        self._client = client
        self._loaded = model
        logger.info(
            "Rasa server ready at %s (pid %s, model %s)",
            client.base_url,
            self._process.pid,
            model.name,
        )

    async def _wait_until_ready(self, client: RasaClient) -> None:
        deadline = time.monotonic() + self._startup_timeout
        process = self._process
        assert process is not None
        while True:
            if process.returncode is not None:
                raise RasaServerError(
                    f"the Rasa server exited with code {process.returncode} while starting; "
                    "last output: " + " | ".join(list(self._tail)[-8:])
                )
            with contextlib.suppress(NluUnavailable):
                status = await client.status()
                if status.model_file:
                    return
            if time.monotonic() > deadline:
                raise RasaServerError(
                    f"the Rasa server did not answer within {self._startup_timeout:.0f} s "
                    "(nlu.server.startup_timeout)"
                )
            await asyncio.sleep(0.25)

    async def _pump_output(self, process: asyncio.subprocess.Process) -> None:
        """Drain Rasa's output (a full pipe would block it) into our log."""
        assert process.stdout is not None
        async for raw in process.stdout:
            line = strip_ansi(raw.decode("utf-8", errors="replace").rstrip())
            if not line:
                continue
            self._tail.append(line)
            level = logging.WARNING if " ERROR " in line or " CRITICAL " in line else logging.DEBUG
            rasa_logger.log(level, "%s", line)

    async def _supervise(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            started = time.monotonic()
            code = await process.wait()
            self._records.remove(process.pid)
            if self._stopping.is_set():
                return
            await self._drop_client()
            if time.monotonic() - started > _HEALTHY_AFTER_SECONDS:
                delay = 1.0
            logger.warning(
                "the Rasa server exited with code %s; restarting in %.0f s (last output: %s)",
                code,
                delay,
                " | ".join(list(self._tail)[-3:]),
            )
            while not self._stopping.is_set():
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._restart_delay_max)
                try:
                    await self._launch()
                except (NluError, OSError) as exc:
                    logger.error(
                        "restarting the Rasa server failed: %s; next try in %.0f s", exc, delay
                    )
                    continue
                self.restarts += 1
                if self._loaded is not None:  # the current model, maybe newer than before
                    await self._announce(self._loaded)
                break

    async def _watch_models(self) -> None:
        while True:
            await asyncio.sleep(self._model_check_interval)
            try:
                await self.reload()
            except NluError as exc:
                logger.error(
                    "could not load the new NLU model (the old one keeps serving): %s", exc
                )

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _terminate(self) -> None:
        await self._drop_client()
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            await _end_group(process)
        self._records.remove(process.pid)


async def _end_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after the grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), _STOP_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


def _free_port(host: str) -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
