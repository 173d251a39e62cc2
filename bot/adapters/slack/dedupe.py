"""Requests Slack sends, or someone replays, more than once: each is handled once.

Slack redelivers an event it thinks was not taken (``X-Slack-Retry-Num`` over HTTP,
``retry_attempt`` in Socket Mode) with the same ``event_id``. It never resends a button
press or a command, but a captured request stays correctly signed for five minutes, and a
replayed Claim must not be applied again. :func:`request_identity` names what makes a
request the same request; :class:`Once` lets the first of them through.

A request is remembered only once it was handed on: one whose handling failed was not
taken, and its redelivery is handled as if it were the first. A redelivery that arrives
while the first is still being handled waits for it, then finds it taken (or not).

The memory is per process: the handoff relay also drops agents' messages it has seen (by
``ts``) across workers. It keeps identities for longer than a signature stays valid and
than Slack goes on redelivering (its last retry comes about five minutes after the first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from .keyed import KeyedLocks

RETENTION = 15 * 60.0  # seconds


def request_identity(body: Mapping[str, Any]) -> str | None:
    """What stays the same when a request is sent again; None when nothing does."""
    kind = body.get("type")
    if kind == "event_callback":
        event_id = body.get("event_id")
        return f"event:{event_id}" if isinstance(event_id, str) and event_id else None
    if kind == "block_actions":
        return _press_identity(body)
    trigger = body.get("trigger_id")
    if isinstance(body.get("command"), str) and isinstance(trigger, str) and trigger:
        return f"command:{trigger}"
    return None


def _press_identity(body: Mapping[str, Any]) -> str | None:
    """A press: who, which button, when (``action_ts``, Slack's own) and on which message.
    Two quick presses are two presses; a replayed one is the same press."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    user, container = body.get("user"), body.get("container")
    if not isinstance(action, Mapping) or not isinstance(user, Mapping):
        return None
    parts = (
        user.get("id"),
        action.get("action_id"),
        action.get("action_ts"),
        container.get("message_ts") if isinstance(container, Mapping) else None,
    )
    if not all(isinstance(part, str) and part for part in parts):
        return None
    return "press:" + ":".join(str(part) for part in parts)


class RecentIds:
    """Identities taken in the last ``retention`` seconds (at most ``capacity`` of them)."""

    def __init__(
        self,
        *,
        retention: float = RETENTION,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retention = retention
        self._capacity = capacity
        self._clock = clock
        self._taken: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, identity: str) -> bool:
        self._forget_old()
        return identity in self._taken

    def remember(self, identity: str) -> None:
        self._taken[identity] = self._clock()
        self._taken.move_to_end(identity)
        self._forget_old()

    def _forget_old(self) -> None:
        oldest = self._clock() - self._retention
        while self._taken and (
            len(self._taken) > self._capacity or next(iter(self._taken.values())) < oldest
        ):
            self._taken.popitem(last=False)


class Turn:
    """A request's turn to be handled: :meth:`taken` once it was handed on."""

    __slots__ = ("is_taken",)

    def __init__(self) -> None:
        self.is_taken = False

    def taken(self) -> None:
        self.is_taken = True


class Once:
    """Lets each request through until one of its deliveries was taken."""

    def __init__(self, *, seen: RecentIds | None = None) -> None:
        self._seen = seen or RecentIds()
        self._handling: KeyedLocks[str] = KeyedLocks()

    @asynccontextmanager
    async def first(self, identity: str | None) -> AsyncIterator[Turn | None]:
        """A :class:`Turn` to handle the request, or None when it was taken already.

        Mark the turn :meth:`~Turn.taken` when the request was handed on; if the block
        raises or never marks it, the request was not taken and the next delivery gets a
        turn of its own. A request without an identity always gets one."""
        if identity is None:
            yield Turn()
            return
        async with self._handling.hold(identity):
            if identity in self._seen:
                yield None
                return
            turn = Turn()
            yield turn
            if turn.is_taken:
                self._seen.remember(identity)
