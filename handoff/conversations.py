"""The shared record of conversations: the live state kept in step with SQL, and delivery to
customers with a stored copy of everything sent.

Both sides use it: the engine (customers' events) and the desk (agents' events). Callers
hold the conversation's lock (:meth:`Conversations.lock`) around a read-modify-write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from handoff.clock import utc_now
from handoff.errors import DeliveryError
from handoff.model import (
    Author,
    ConversationKey,
    Customer,
    Inbound,
    LiveConversation,
    MessageKind,
    Mode,
    Outbound,
)
from handoff.policy.memory import RECENT_TEXTS
from handoff.ports import CustomerChannel
from handoff.records import Analysis, Delivery, NewMessage, Platform, RecordedTurn, StoredMessage
from handoff.records import Customer as CustomerRecord
from handoff.responses import Reply
from handoff.state.base import LiveState
from handoff.store import ConversationStore

logger = logging.getLogger(__name__)

EDITED = ":edited:"  # in the stored id of an edit: the message's id, this, when it was edited


def for_agents(mode: Mode, inbound: Inbound) -> bool:
    """Whether a customer's event goes to the agents' thread: everything sent while a person
    has (or is about to have) the conversation, except button presses and /human."""
    return (
        mode in (Mode.WAITING, Mode.HUMAN)
        and inbound.kind is not MessageKind.BUTTON
        and not (inbound.kind is MessageKind.COMMAND and inbound.command == "human")
    )


class Conversations:
    """Live state + SQL + the customer channel, for one kind of customer channel."""

    def __init__(
        self,
        *,
        repository: ConversationStore,
        state: LiveState,
        channel: CustomerChannel,
    ) -> None:
        self.repository = repository
        self.state = state
        self.channel = channel

    def lock(self, key: ConversationKey) -> AbstractAsyncContextManager[None]:
        # The wait is the live state's own (state.lock_timeout), configured once.
        return self.state.lock(key)

    async def current(self, key: ConversationKey) -> LiveConversation | None:
        """The open conversation of a chat: live state first, SQL when the cache is cold."""
        live = await self.state.get(key)
        if live is not None and live.mode is not Mode.CLOSED:
            return live
        conversation = await self.repository.get_open_conversation(
            channel=key.channel, chat_id=key.chat_id
        )
        if conversation is None:
            return None
        handoff = await self.repository.open_handoff_for(conversation.id)
        recent = await self.repository.recent_messages(conversation.id, limit=RECENT_TEXTS * 3)
        texts = [
            m.text
            for m in recent
            if m.author is Author.CUSTOMER and m.kind is MessageKind.TEXT and m.text
        ]
        live = LiveConversation(
            conversation_id=conversation.id,
            # Who has it is the open handoff's owner, stored once; the mode follows from it.
            mode=conversation.mode if handoff is None else handoff.mode,
            failed_turns=conversation.failed_turns,
            last_answered_intent=conversation.last_answered_intent,
            handoff_id=handoff.id if handoff else None,
            recent_texts=tuple(texts[-RECENT_TEXTS:]),
        )
        await self.state.put(key, live)
        return live

    async def current_or_new(self, inbound: Inbound) -> LiveConversation:
        """The open conversation of the chat the event came from, opening one if needed."""
        live = await self.current(inbound.key)
        if live is not None:
            return live
        key, customer = inbound.key, inbound.customer
        record = await self.repository.get_or_create_customer(
            channel=key.channel,
            platform_user_id=customer.user_id,
            display_name=customer.display_name,
            username=customer.username,
            language_code=customer.language_code,
        )
        conversation = await self.repository.open_conversation(
            customer_id=record.id, channel=key.channel, chat_id=key.chat_id
        )
        live = LiveConversation(conversation_id=conversation.id)
        await self.state.put(key, live)
        return live

    async def save(self, key: ConversationKey, live: LiveConversation) -> None:
        """Write ``live`` to SQL (the record), then to the live state (the shared copy)."""
        if live.mode is Mode.CLOSED:
            await self.repository.close_conversation(live.conversation_id, at=utc_now())
            await self.state.delete(key)
            return
        await self.repository.update_conversation(
            live.conversation_id,
            mode=live.mode,
            failed_turns=live.failed_turns,
            last_answered_intent=live.last_answered_intent,
        )
        await self.state.put(key, live)

    async def answer(
        self,
        key: ConversationKey,
        live: LiveConversation,
        reply: Reply,
        *,
        message: StoredMessage,
        analysis: Analysis,
    ) -> None:
        """The bot answers (or asks again) in a turn it understood: send the reply, then
        record the turn whole in one transaction, then update the live state."""
        sent_id, failure = await self.deliver(
            Outbound(key=key, text=reply.text, buttons=reply.buttons)
        )
        record = dict(analysis.decision or {})
        if failure:
            record["undelivered"] = failure
        await self.repository.record_turn(
            RecordedTurn(
                message_id=message.id,
                analysis=analysis,
                conversation_id=live.conversation_id,
                failed_turns=live.failed_turns,
                last_answered_intent=live.last_answered_intent,
                reply=self._bot_message(live.conversation_id, key, reply, sent_id, record),
            )
        )
        await self.state.put(key, live)

    async def customer_of(self, conversation_id: int) -> Customer:
        conversation = await self.repository.get_conversation(conversation_id)
        record: CustomerRecord | None = None
        if conversation is not None:
            record = await self.repository.get_customer(conversation.customer_id)
        if record is None:
            return Customer(user_id="?", display_name="unknown customer")
        return Customer(
            user_id=record.platform_user_id,
            display_name=record.display_name,
            username=record.username,
            language_code=record.language_code,
        )

    async def store_customer_event(
        self, conversation_id: int, inbound: Inbound, *, delivery: Delivery | None = None
    ) -> StoredMessage | None:
        """Store what the customer did; None if this very update was stored before.

        ``delivery`` is PENDING for an event still to be shown to agents (see
        :func:`for_agents`): stored so, it is redelivered if showing it never happens.
        """
        # An edit keeps the message's id; its own record (never lost) gets a distinct one.
        message_id = inbound.message_id
        if inbound.edited:
            message_id = f"{message_id}{EDITED}{inbound.sent_at.timestamp():.0f}"
        text = inbound.text
        if inbound.kind is MessageKind.BUTTON:
            text = inbound.button
        elif inbound.kind is MessageKind.COMMAND:
            text = f"/{inbound.command}" + (f" {inbound.text}" if inbound.text else "")
        return await self.repository.add_message(
            NewMessage(
                conversation_id=conversation_id,
                author=Author.CUSTOMER,
                author_id=inbound.customer.user_id,
                author_name=inbound.customer.display_name,
                platform=Platform(inbound.key.channel),
                platform_chat_id=inbound.key.chat_id,
                platform_message_id=message_id,
                kind=inbound.kind,
                text=text,
                created_at=inbound.sent_at,
                delivery=delivery,
            )
        )

    async def say(
        self,
        conversation_id: int,
        key: ConversationKey,
        reply: Reply,
        *,
        decision: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Send a bot reply and store it (also when delivery failed for good)."""
        sent_id, failure = await self.deliver(
            Outbound(key=key, text=reply.text, buttons=reply.buttons)
        )
        record = dict(decision or {})
        if failure:
            record["undelivered"] = failure
        await self.repository.add_message(
            self._bot_message(conversation_id, key, reply, sent_id, record)
        )
        return sent_id

    @staticmethod
    def _bot_message(
        conversation_id: int,
        key: ConversationKey,
        reply: Reply,
        sent_id: str | None,
        record: Mapping[str, Any],
    ) -> NewMessage:
        return NewMessage(
            conversation_id=conversation_id,
            author=Author.BOT,
            platform=Platform(key.channel),
            platform_chat_id=key.chat_id if sent_id else None,
            platform_message_id=sent_id,
            text=reply.text,
            decision=dict(record) or None,
            created_at=utc_now(),
        )

    async def deliver(self, message: Outbound) -> tuple[str | None, str | None]:
        """Send to the customer: (their message id, None), or (None, why it failed for good)."""
        sent, refusal = await self.attempt(message)
        return sent, None if refusal is None else str(refusal)

    async def attempt(self, message: Outbound) -> tuple[str | None, DeliveryError | None]:
        """Send to the customer: (their message id, None), or (None, the refusal)."""
        try:
            return await self.channel.send(message), None
        except DeliveryError as exc:
            logger.warning("could not deliver to %s: %s", message.key, exc)
            return None, exc
