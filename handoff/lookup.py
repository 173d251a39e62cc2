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
from handoff.threads import thread_of

# Seconds between looks; 1.55 s in all, as agents' commands must be answered within 3 s.
PATIENCE = (0.05, 0.1, 0.2, 0.4, 0.8)
T = TypeVar("T")


class Lookup:
    def __init__(self, *, store: ConversationStore) -> None:
        self._store = store

    async def thread_of(self, handoff_id: int) -> DeskThread | None:
        """The thread of handoff number ``handoff_id`` (agents name it so in commands)."""

        async def lookup() -> DeskThread | None:
            handoff = await self._store.get_handoff(handoff_id)
            return None if handoff is None else thread_of(handoff)

        return await _patiently(lookup)

    async def locate(self, thread: DeskThread) -> tuple[Handoff, ConversationKey] | None:
        """The handoff of an agents' thread, and its conversation's chat."""
        handoff = await _patiently(
            lambda: self._store.find_handoff_by_thread(
                agent_channel=thread.channel, thread_ts=thread.thread_ts
            )
        )
        if handoff is None:
            return None
        conversation = await self._store.get_conversation(handoff.conversation_id)
        if conversation is None:
            return None
        return handoff, conversation.key

    async def fresh(self, handoff: Handoff) -> Handoff:
        """Re-read under the lock: another worker may have changed it meanwhile."""
        return await self._store.get_handoff(handoff.id) or handoff

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
