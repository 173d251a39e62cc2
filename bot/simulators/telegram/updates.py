"""The updates waiting for the bot, and which of them it asked for."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from .records import JsonDict, Signal

# What Telegram sends when getUpdates/setWebhook never named the update types wanted.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _update_type(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")


class UpdateQueue:
    def __init__(self, *, signal: Signal) -> None:
        self.pending: list[JsonDict] = []
        self._allowed: frozenset[str] | None = None  # None: Telegram's default set
        self._ids = itertools.count(500_000_001)
        self._signal = signal

    @property
    def allowed(self) -> frozenset[str] | None:
        return self._allowed

    def next_id(self) -> int:
        """A fresh update id (also used to make injected file ids unique)."""
        return next(self._ids)

    def inject(self, update_type: str, payload: JsonDict) -> int:
        update_id = self.next_id()
        self.queue({"update_id": update_id, update_type: payload})
        return update_id

    def queue(self, update: JsonDict) -> None:
        self.pending.append(update)
        self._signal.notify()

    def set_allowed(self, allowed: Iterable[str] | None) -> None:
        # An empty list restores Telegram's default set.
        self._allowed = frozenset(allowed) if allowed else None

    def deliverable(self) -> list[JsonDict]:
        """The pending updates the bot asked for; the others are dropped, as Telegram does."""
        self.pending = [update for update in self.pending if self._is_allowed(update)]
        return list(self.pending)

    def confirm(self, offset: int) -> None:
        """getUpdates' ``offset``: updates before it were received and are forgotten."""
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def accepted(self, update: JsonDict) -> None:
        """The webhook accepted ``update``."""
        self.pending = [u for u in self.pending if u is not update]
        self._signal.notify()

    def drop_all(self) -> None:
        self.pending.clear()

    def _is_allowed(self, update: JsonDict) -> bool:
        kind = _update_type(update)
        if self._allowed is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed
