"""One real Rasa server for many services: tests that start and restart the whole service
often point it at this one (``RASA_URL``) instead of paying a managed Rasa's start-up
(about 20 s) every time."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from nlu.lifetime import die_with_parent
from nlu.process import rasa_subprocess_environment
from tests.support.ports import free_port
from tests.support.rasa import ready_environment

_LOOK_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class RasaEndpoint:
    url: str
    token: str


@contextmanager
def rasa_server(
    model: Path, *, log: Path, startup_timeout: float = 180.0
) -> Iterator[RasaEndpoint]:
    """``rasa run --enable-api`` on a free loopback port with ``model`` loaded, until the
    block exits (then terminated, or killed)."""
    port, token = free_port(), secrets.token_hex(16)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                str(ready_environment().rasa),
                "run",
                "--enable-api",
                "--model",
                str(model),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
                "--auth-token",
                token,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=rasa_subprocess_environment(),
            # Dies with this test run, however it ends; nlu.lifetime's hook takes no lock
            # and imports nothing in the child, so it is safe with threads.
            preexec_fn=die_with_parent(),  # noqa: PLW1509
        )
    endpoint = RasaEndpoint(url=f"http://127.0.0.1:{port}", token=token)
    try:
        _wait_until_ready(process, endpoint, timeout=startup_timeout, log=log)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], endpoint: RasaEndpoint, *, timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Rasa server exited with code {process.returncode}; see {log}")
        try:
            answer = httpx.get(f"{endpoint.url}/status", params={"token": endpoint.token})
            if answer.status_code == 200 and answer.json().get("model_file"):
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(_LOOK_INTERVAL)
    raise RuntimeError(f"the Rasa server did not answer within {timeout:g} s; see {log}")
