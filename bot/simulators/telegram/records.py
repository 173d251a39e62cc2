"""What the simulator records for tests to read, and a way to await it instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

JsonDict = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request: its decoded parameters, when it arrived, and the HTTP status given.

    ``at`` is :func:`time.monotonic` on arrival; calls are recorded in the order they finished.
    """

    method: str
    params: JsonDict
    at: float
    status: int = 200


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, as the customer sees it now (after any edits)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JsonDict | None = None
    parse_mode: str | None = None
    edited: bool = False
    deleted: bool = False  # deleteMessage: gone from the customer's chat

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of ``(label, callback_data)``."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


@dataclass(frozen=True, slots=True)
class Injected:
    """What an injected customer event became: its update, message and callback query ids."""

    update_id: int
    message_id: int | None = None
    callback_query_id: str | None = None


class Signal:
    """Wakes every waiter whenever something was recorded."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    async def wait_until(
        self, probe: Callable[[], T | None], *, timeout: float, what: Callable[[], str]
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := probe()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"waited {timeout}s for {what()}")
            await self.wait(remaining)
        return found
