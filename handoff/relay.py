"""Relay what the customer sends while a person has the conversation to the agents' thread.

It is stored as pending delivery first and then handed to the outbox, which delivers in
order, once each (:mod:`handoff.outbox`). What an agent writes goes the other way with the
agent's event (:mod:`handoff.lifecycle`, :mod:`handoff.agent_change`).
"""

from __future__ import annotations

import logging

from handoff.conversations import Conversations
from handoff.errors import DeliveryError
from handoff.lookup import Lookup
from handoff.model import (
    ConversationKey,
    CustomerRelay,
    Inbound,
    LiveConversation,
    MessageKind,
)
from handoff.outbox import Outbox
from handoff.records import Handoff, StoredMessage

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
        await self._outbox.flush(
            live.conversation_id, key, fresh=(stored.id, relay), handoff=handoff
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
