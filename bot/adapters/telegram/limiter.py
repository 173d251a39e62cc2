"""Pacing of outgoing messages to stay within Telegram's flood limits.

Telegram allows a bot about 30 messages a second overall and about one a second in a chat;
above that it answers 429. Sends are queued, never dropped: each waits for the next free
slot of its chat, then for the next free slot overall. Slots are reserved synchronously,
so sends to one chat keep the order in which they were made.

Written here rather than using PTB's ``AIORateLimiter``: that needs the ``aiolimiter``
extra and limits private chats only by the overall rate, not one message a second each.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendLimits:
    per_chat_interval: float = 1.0  # seconds between two messages in one chat
    overall_per_second: float = 30.0

    def __post_init__(self) -> None:
        if self.per_chat_interval < 0 or self.overall_per_second <= 0:
            raise ValueError("send limits must be positive")


class SendLimiter:
    """Waits for a send's turn; see the module docstring."""

    _PRUNE_EVERY = 1000  # reservations between sweeps of chats that have gone quiet

    def __init__(self, *, limits: SendLimits) -> None:
        self._chat_interval = limits.per_chat_interval
        self._overall_interval = 1.0 / limits.overall_per_second
        self._chat_next: dict[int, float] = {}
        self._held_until: dict[int, float] = {}  # chats Telegram asked to pause (429)
        self._overall_next = 0.0
        self._reservations = 0

    async def wait_turn(self, chat_id: int) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._chat_next.get(chat_id, 0.0))
        self._chat_next[chat_id] = slot + self._chat_interval
        self._prune(now)
        if slot > now:
            await asyncio.sleep(slot - now)
        # The overall slot is taken only once the chat's turn has come, so a busy chat
        # never holds up the others.
        now = loop.time()
        overall = max(now, self._overall_next)
        self._overall_next = overall + self._overall_interval
        if overall > now:
            await asyncio.sleep(overall - now)

    def defer(self, chat_id: int, seconds: float) -> None:
        """Telegram asked to wait ``seconds`` before writing to this chat again."""
        until = asyncio.get_running_loop().time() + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)
        self._held_until[chat_id] = max(self._held_until.get(chat_id, 0.0), until)

    def held_for(self, chat_id: int) -> float:
        """The seconds until a 429's pause of this chat ends (pacing does not count)."""
        until = self._held_until.get(chat_id)
        if until is None:
            return 0.0
        left = until - asyncio.get_running_loop().time()
        if left <= 0:
            del self._held_until[chat_id]
            return 0.0
        return left

    async def close(self) -> None:
        """Nothing to let go of here (the shared limiter closes its Redis client)."""
        return

    def _prune(self, now: float) -> None:
        self._reservations += 1
        if self._reservations % self._PRUNE_EVERY == 0:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._held_until = {c: t for c, t in self._held_until.items() if t > now}
