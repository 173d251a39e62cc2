"""What the simulator records, and a log that tests can await instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.simulators.slack.errors import WaitTimeout

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One Web API request: ``params`` merges query, form and JSON body, with JSON-valued
    form fields (``blocks``, ``attachments``, ``files``...) decoded; the token is left out."""

    method: str
    params: dict[str, Any]
    at: datetime
    status: int
    """The HTTP status answered: 200, or the injected 429/5xx."""
    error: str | None
    """The ``error`` of an ``ok: false`` answer; ``None`` when the call succeeded."""
    late: bool = False
    """Answered only after an injected delay (see ``slow_next``); it took effect at once."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass(frozen=True, slots=True)
class ResponseUrlPost:
    """A POST to a ``response_url`` (Bolt's ``respond()``), for the message in ``channel``."""

    channel: str
    message_ts: str | None
    body: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class EphemeralMessage:
    """A message only ``user`` sees; Slack does not keep it in the channel's history."""

    channel: str
    user: str | None
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None


@dataclass(frozen=True, slots=True)
class UploadedFile:
    id: str
    name: str
    title: str
    channels: tuple[str, ...]
    thread_ts: str | None
    size: int


@dataclass(frozen=True, slots=True)
class Fault:
    """How the next call to a method fails; see :meth:`SlackSimulator.fail_next`."""

    status: int
    error: str
    retry_after: int


class TimestampClock:
    """Slack message timestamps (``"1700000000.000100"``): the current time in microseconds,
    but strictly increasing, because Slack uses ``ts`` as the message's unique key."""

    def __init__(self, *, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._last = 0

    def next(self) -> str:
        micros = max(int(self._now() * 1_000_000), self._last + 1)
        self._last = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class RecordLog(Generic[T]):
    """An append-only list whose readers can await the first item matching a predicate."""

    def __init__(self, *, describe: Callable[[T], str]) -> None:
        self._items: list[T] = []
        self._waiters: list[tuple[Callable[[T], bool], asyncio.Future[T]]] = []
        self._describe = describe

    @property
    def items(self) -> Sequence[T]:
        return tuple(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def append(self, item: T) -> None:
        self._items.append(item)
        for matches, future in self._waiters:
            if future.done():
                continue
            try:
                if matches(item):
                    future.set_result(item)
            except Exception as exc:  # a broken predicate is the waiting test's bug: raise it there
                future.set_exception(exc)

    async def wait_for(
        self,
        matches: Callable[[T], bool],
        *,
        since: int,
        timeout: float,
        what: str,
    ) -> T:
        """The first item at index ``since`` or later that ``matches``, present or to come."""
        for item in self._items[since:]:
            if matches(item):
                return item
        waiter = (matches, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                arrived: T = await waiter[1]
                return arrived
        except TimeoutError as exc:
            seen = ", ".join(self._describe(item) for item in self._items[since:]) or "nothing"
            raise WaitTimeout(f"no {what} within {timeout}s; since #{since} saw: {seen}") from exc
        finally:
            self._waiters.remove(waiter)
