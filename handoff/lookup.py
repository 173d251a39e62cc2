"""Finding a handoff: by its number, by its thread, by its conversation.

A card is posted before its thread is recorded, so an agent (or a worker) quick enough can
name the thread in between: lookups by thread or number look again for a moment before
taking "not found" for an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from handoff.model import ConversationKey, DeskThread, LiveConversation
from handoff.records import Handoff
from handoff.store import ConversationStore
from handoff.threads import ThreadIndex, thread_of

# Seconds between looks; 1.55 s in all, as agents' commands must be answered within 3 s.
PATIENCE = (0.05, 0.1, 0.2, 0.4, 0.8)
T = TypeVar("T")


class Lookup:
    def __init__(self, *, store: ConversationStore, index: ThreadIndex) -> None:
        self._store = store
        self._index = index

    async def thread_of(self, handoff_id: int) -> DeskThread | None:
        """The thread of handoff number ``handoff_id`` (agents name it so in commands)."""

        async def lookup() -> DeskThread | None:
            handoff = await self._store.get_handoff(handoff_id)
            return None if handoff is None else thread_of(handoff)

        return await _patiently(lookup)

    async def locate(self, thread: DeskThread) -> tuple[int, ConversationKey] | None:
        """The handoff number of an agents' thread, and its conversation's chat: known to
        this process since it posted or met the thread, otherwise looked up."""
        known = self._index.get(thread)
        if known is not None:
            return known
        found = await _patiently(
            lambda: self._store.locate_thread(
                agent_channel=thread.channel, thread_ts=thread.thread_ts
            )
        )
        if found is None:
            return None
        handoff, key = found
        self._index.remember(thread, handoff.id, key)
        return handoff.id, key

    async def open_handoff(self, live: LiveConversation) -> Handoff | None:
        """The conversation's open handoff, if it has one."""
        if live.handoff_id is not None:
            handoff = await self._store.get_handoff(live.handoff_id)
            if handoff is not None and handoff.is_open:
                return handoff
        return await self._store.open_handoff_for(live.conversation_id)


async def _patiently(lookup: Callable[[], Awaitable[T | None]]) -> T | None:
    found = await lookup()
    for delay in PATIENCE:
        if found is not None:
            break
        await asyncio.sleep(delay)
        found = await lookup()
    return found
