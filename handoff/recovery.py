"""Finishing what an outage or a crash cut short, and what to do when handling fails.

The intake journal replays an event until it was handled; the engine asks here whether a
repeated update still needs handling, and hands a conversation to a person when handling
it failed for good.
"""

from __future__ import annotations

import logging

from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine_support import analysis_fields, analysis_of
from handoff.model import Author, Inbound, LiveConversation, Mode
from handoff.policy import service_error_decision
from handoff.records import StoredMessage

logger = logging.getLogger(__name__)


class Recovery:
    def __init__(self, *, conversations: Conversations, desk: HandoffDesk) -> None:
        self._conversations = conversations
        self._repository = conversations.repository
        self._desk = desk

    async def unfinished(self, live: LiveConversation, inbound: Inbound) -> StoredMessage | None:
        """The stored copy of a repeated update whose handling never finished (an outage or
        a crash came in between), so it is handled now; None if it was handled.

        Handled means: the bot or an agent wrote after it, or it waits to be shown to
        agents (the redelivery does that).
        """
        if inbound.edited:
            return None  # an edit's record is stored under its own id, once: nothing to finish
        stored = await self._repository.find_message(
            platform=inbound.key.channel, chat_id=inbound.key.chat_id, message_id=inbound.message_id
        )
        if stored is None or stored.conversation_id != live.conversation_id:
            return None
        if stored.delivery is not None:
            return None
        later = await self._repository.recent_messages(live.conversation_id, limit=20)
        answered = any(m.id > stored.id and m.author is not Author.CUSTOMER for m in later)
        return None if answered else stored

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        """Handling ``inbound`` failed for good: hand the conversation to a person, saying
        why. False if even that failed (the intake then tells the customer so)."""
        try:
            async with self._conversations.lock(inbound.key):
                live = await self._conversations.current_or_new(inbound)
                if live.mode is not Mode.BOT:
                    return True  # people have it already; the message is stored for them
                decision = service_error_decision(error)
                stored = await self._conversations.store_customer_event(
                    live.conversation_id, inbound
                ) or await self._repository.find_message(
                    platform=inbound.key.channel,
                    chat_id=inbound.key.chat_id,
                    message_id=inbound.message_id,
                )
                if stored is not None:
                    await self._repository.record_analysis(
                        stored.id, **analysis_fields(analysis_of(None, None, decision))
                    )
                await self._desk.request(live, inbound.key, inbound.customer, decision)
                return True
        except Exception:
            logger.exception("could not hand %s to a person after an error", inbound.key)
            return False

    async def restore_live_state(self) -> int:
        """After a restart: rebuild the live state of every active conversation from SQL."""
        active = await self._repository.active_conversations()
        for item in active:
            key = item.conversation.key
            if await self._conversations.state.get(key) is None:
                await self._conversations.state.put(key, item.live())
        return len(active)
