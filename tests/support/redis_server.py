"""A redis-server of the test's own, on a free loopback port (and a Unix socket, if asked),
that the test can stop and start again on the same port in the middle of a conversation.

Nothing is persisted (``--save '' --appendonly no``): a restart starts empty, as a cache
that crashed does, so the service must rebuild what it keeps there.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

from nlu.lifetime import die_with_parent
from tests.support.ports import free_port, wait_until_answering

_STOP_GRACE_SECONDS = 5.0


class RedisServer:
    """``async with RedisServer(log=...) as redis:`` then ``redis.url``; :meth:`stop` and
    :meth:`start` mid-test; the process is killed when the block exits, whatever happened."""

    def __init__(
        self,
        *,
        log: Path,
        executable: str = "redis-server",
        startup_timeout: float = 10.0,
        unix_socket: Path | None = None,
    ) -> None:
        found = shutil.which(executable)
        if found is None:
            raise RuntimeError(f"{executable} is not installed (apt-get install redis-server)")
        self._executable = found
        self._log = log
        self._startup_timeout = startup_timeout
        self.port = free_port()
        self.unix_socket = unix_socket  # listened on too, when given (unix_url)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        if self.unix_socket is None:
            raise RuntimeError("this redis-server has no Unix socket")
        return f"unix://{self.unix_socket}?db=0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        """Start the server (again) on its port; returns once it answers PING."""
        if self.running:
            return
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: ASYNC220 - starting is instant; waiting is async below
                [
                    self._executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    *self._unix_options(),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Dies with this test run, however it ends; nlu.lifetime's hook takes no lock
                # and imports nothing in the child, so it is safe with threads.
                preexec_fn=die_with_parent(),  # noqa: PLW1509
            )
        await wait_until_answering(
            self.port,
            probe=b"PING\r\n",
            expect=b"+PONG",
            timeout=self._startup_timeout,
            alive=lambda: self.running,
            what=f"redis-server on port {self.port} (log: {self._log})",
        )

    def _unix_options(self) -> list[str]:
        if self.unix_socket is None:
            return []
        return ["--unixsocket", str(self.unix_socket), "--unixsocketperm", "700"]

    async def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); its data is gone."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), _STOP_GRACE_SECONDS)
        except TimeoutError:
            process.kill()
            await asyncio.to_thread(process.wait)

    def kill(self) -> None:
        """The last resort of cleanup; works without an event loop."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            self.kill()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.stop()
        finally:
            self.kill()
