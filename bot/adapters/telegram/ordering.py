"""Concurrency of update handling: chats in parallel, one chat's updates in order.

PTB's ``concurrent_updates(n)`` runs every update in its own task, so two quick messages
from one customer could be handled at once and finish in either order. The engine's
per-conversation lock serialises them, but only in the order they reach it. This
processor keeps each chat's updates first-in, first-out before they get there: updates
start in the order they were received (PTB creates their tasks in that order) and each
waits on its chat's FIFO lock. Different chats never wait for each other, except that at
most ``max_concurrent_updates`` updates are in flight; a chat with that many queued
updates holds the rest back until its first one finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        started = False
        try:
            async with lock:
                started = True
                await coroutine
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while queued: no "never awaited" warning
            self._users[chat.id] -= 1
            if not self._users[chat.id]:  # nobody else queued: forget the chat
                del self._users[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
