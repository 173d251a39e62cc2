"""Relay both ways while a person has the conversation: what the customer sends, shown in
the agents' thread, and what an agent writes there, stored for the customer.

Both are stored as pending delivery first and then handed to the outbox, which delivers
them in order, once each (:mod:`handoff.outbox`).
"""

from __future__ import annotations

import logging

from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.errors import DeliveryError
from handoff.lookup import Lookup
from handoff.model import (
    AgentReply,
    Author,
    ConversationKey,
    CustomerRelay,
    Inbound,
    LiveConversation,
    MessageKind,
)
from handoff.outbox import Outbox
from handoff.records import Delivery, Handoff, NewMessage, Platform, StoredMessage

logger = logging.getLogger(__name__)

# What agents get as files: what customers send to show a problem. Voice, video and the
# like are described instead.
SHOWN_FILES = frozenset({MessageKind.PHOTO, MessageKind.DOCUMENT})


class Relay:
    def __init__(self, *, conversations: Conversations, outbox: Outbox, lookup: Lookup) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._outbox = outbox
        self._lookup = lookup

    async def from_customer(
        self, live: LiveConversation, key: ConversationKey, inbound: Inbound, stored: StoredMessage
    ) -> None:
        """A customer's message while a person has the conversation: show it in the thread.

        ``stored`` is its record, stored as pending delivery: marked delivered once agents
        have it; otherwise redelivery shows it later.
        """
        handoff = await self._lookup.open_handoff(live)
        if handoff is None:
            return
        relay = CustomerRelay(
            kind=inbound.kind,
            text=inbound.text,
            attachment=inbound.attachment,
            edited=inbound.edited,
            content=await self._file_of(inbound, handoff),
        )
        await self._outbox.flush(live.conversation_id, key, fresh=(stored.id, relay))

    async def store_agent_reply(self, reply: AgentReply, handoff: Handoff) -> StoredMessage | None:
        """Store what the agent wrote; None if this very message was stored before. Pending
        delivery while the handoff is open: stored before it is sent, so that if sending
        never happens it is redelivered."""
        return await self._store.add_message(
            NewMessage(
                conversation_id=handoff.conversation_id,
                author=Author.AGENT,
                author_id=reply.agent.user_id,
                author_name=reply.agent.display_name,
                platform=Platform.SLACK,
                platform_chat_id=reply.thread.channel,
                platform_message_id=reply.message_ts,
                text=reply.text,
                created_at=utc_now(),
                delivery=Delivery.PENDING if handoff.is_open else None,
            )
        )

    async def _file_of(self, inbound: Inbound, handoff: Handoff) -> bytes | None:
        """The photo's or document's bytes, for agents to see; None when there are none to
        show or they could not be fetched (agents then see a note of what it was; the message
        itself is stored already)."""
        if inbound.kind not in SHOWN_FILES or inbound.attachment is None:
            return None
        try:
            return await self._conversations.channel.download(inbound.attachment)
        except DeliveryError as exc:
            logger.warning(
                "could not fetch a customer's file for agents (handoff %s): %s", handoff.id, exc
            )
            return None
