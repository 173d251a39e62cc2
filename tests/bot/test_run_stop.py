"""How the sandbox console stops: on a signal, even while it is blocked reading a line.

The real thing (a terminal, Ctrl-C, SIGTERM, the whole sandbox) is tested in
tests/e2e/test_sandbox.py; these are its parts, without Rasa."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from bot.sandbox.console import in_daemon_thread, stop_requests, unless_stopped


class Keyboard:
    """A ``read`` that blocks like ``input()`` until a line is typed."""

    def __init__(self) -> None:
        self.typed = threading.Event()
        self.reading = threading.Event()
        self.line = ""

    def read(self) -> str:
        self.reading.set()
        self.typed.wait()
        return self.line

    def type(self, line: str) -> None:
        self.line = line
        self.typed.set()


async def test_a_stop_does_not_wait_for_the_line_being_read() -> None:
    keyboard = Keyboard()
    stopping = asyncio.Event()
    reader = asyncio.create_task(unless_stopped(_read_one(keyboard), stopping))
    await asyncio.to_thread(keyboard.reading.wait)
    stopping.set()
    assert await reader is False  # while the reading thread is still blocked
    assert not keyboard.typed.is_set()
    [thread] = [t for t in threading.enumerate() if t.name == "sandbox-input"]
    assert thread.daemon  # it does not hold up the exit
    keyboard.type("too late")  # the line nobody wants is dropped, without an error
    await asyncio.to_thread(thread.join)


async def test_a_line_and_the_end_of_input_reach_the_console() -> None:
    keyboard = Keyboard()
    keyboard.type(":cards")
    assert await in_daemon_thread(keyboard.read) == ":cards"

    def ended() -> str:
        raise EOFError

    with pytest.raises(EOFError):
        await in_daemon_thread(ended)


async def test_work_that_ends_first_is_not_a_stop() -> None:
    assert await unless_stopped(asyncio.sleep(0), asyncio.Event()) is True

    async def failing() -> None:
        raise LookupError("no handoff yet")

    with pytest.raises(LookupError):
        await unless_stopped(failing(), asyncio.Event())


async def test_the_first_sigterm_asks_to_stop_and_gives_the_second_its_default() -> None:
    with stop_requests() as stopping:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stopping.wait(), timeout=30)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


async def _read_one(keyboard: Keyboard) -> None:
    await in_daemon_thread(keyboard.read)
