"""Loopback ports for servers that tests start themselves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

_LOOK_INTERVAL = 0.05  # a starting process tells no one when it listens: look again this often


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def wait_until_answering(
    port: int,
    *,
    probe: bytes,
    expect: bytes,
    timeout: float,
    alive: Callable[[], bool],
    what: str,
    host: str = "127.0.0.1",
) -> None:
    """Until a server on ``port`` answers ``probe`` with a line starting with ``expect``;
    fails early when ``alive()`` says the process died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if not alive():
            raise RuntimeError(f"{what} exited while starting")
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(probe)
                await writer.drain()
                if (await reader.readline()).startswith(expect):
                    return
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        await asyncio.sleep(_LOOK_INTERVAL)
    raise RuntimeError(f"{what} did not answer within {timeout:g} s")
