"""Personal data in SQL: the privacy audit trail, and a customer's rows read for an export,
removed for an erasure, or stripped of their texts after the retention period.

Implements :class:`~handoff.privacy.audit.PrivacyLog` and
:class:`~handoff.privacy.rights.CustomerRecords`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from handoff.model import Author, ConversationKey, DeskThread, MessageKind
from handoff.privacy.audit import PrivacyEvent, PrivacyEventKind
from handoff.privacy.rights import Erased, Expired
from handoff.records import Customer
from handoff.storage import mapping
from handoff.storage.privacy_rows import (
    card_without_texts,
    exported_conversation,
    exported_customer,
    without_texts,
)
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.tables import (
    ConversationRow,
    CustomerRow,
    HandoffEventRow,
    HandoffRow,
    MessageRow,
    PrivacyEventRow,
)

_FILE_KINDS = (MessageKind.PHOTO, MessageKind.DOCUMENT)
# Rows changed a transaction by retention (see PrivacyStore.expire_texts): on SQLite about
# 15 ms of the write lock for messages, measured on a database of 300,000.
EXPIRY_BATCH = 500


class PrivacyStore(RepositoryBase):
    # --- the audit trail -----------------------------------------------------------------

    async def record(self, event: PrivacyEvent) -> None:
        async with self._transaction("recording a privacy event") as session:
            session.add(
                PrivacyEventRow(
                    kind=event.kind.value,
                    at=event.at,
                    actor_id=event.actor_id,
                    actor_name=event.actor_name,
                    customer_id=event.customer_id,
                    handoff_id=event.handoff_id,
                    message_ids=list(event.message_ids) or None,
                    count=event.count,
                )
            )

    async def events(self, *, customer_id: int | None = None) -> list[PrivacyEvent]:
        query = select(PrivacyEventRow).order_by(PrivacyEventRow.id)
        if customer_id is not None:
            query = query.where(PrivacyEventRow.customer_id == customer_id)
        async with self._transaction("reading privacy events") as session:
            rows = (await session.scalars(query)).all()
        return [
            PrivacyEvent(
                kind=PrivacyEventKind(row.kind),
                at=row.at,
                actor_id=row.actor_id,
                actor_name=row.actor_name,
                customer_id=row.customer_id,
                handoff_id=row.handoff_id,
                message_ids=tuple(row.message_ids or ()),
                count=row.count,
            )
            for row in rows
        ]

    # --- one customer --------------------------------------------------------------------

    async def find_customer(self, reference: str) -> Customer | None:
        channel, _, user = reference.strip().partition(":")
        if user:
            query = select(CustomerRow).where(
                CustomerRow.channel == channel, CustomerRow.platform_user_id == user
            )
        elif channel.isdigit():
            query = select(CustomerRow).where(CustomerRow.id == int(channel))
        else:
            return None
        async with self._transaction("finding a customer") as session:
            row = (await session.scalars(query)).one_or_none()
        return None if row is None else mapping.customer(row)

    async def customer_export(self, customer_id: int) -> dict[str, Any]:
        async with self._transaction("exporting a customer") as session:
            customer = await session.get(CustomerRow, customer_id)
            if customer is None:
                return {}
            conversations = (
                await session.scalars(
                    select(ConversationRow)
                    .where(ConversationRow.customer_id == customer_id)
                    .order_by(ConversationRow.id)
                )
            ).all()
            exported = []
            for conversation in conversations:
                messages = (
                    await session.scalars(
                        select(MessageRow)
                        .where(MessageRow.conversation_id == conversation.id)
                        .order_by(MessageRow.id)
                    )
                ).all()
                handoffs = (
                    await session.scalars(
                        select(HandoffRow)
                        .where(HandoffRow.conversation_id == conversation.id)
                        .order_by(HandoffRow.id)
                    )
                ).all()
                exported.append(exported_conversation(conversation, messages, handoffs))
        return {
            "customer": exported_customer(customer),
            "conversations": exported,
        }

    async def customer_threads(self, customer_id: int) -> list[DeskThread]:
        query = (
            select(HandoffRow.agent_channel, HandoffRow.agent_thread_ts)
            .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
            .where(
                ConversationRow.customer_id == customer_id,
                HandoffRow.agent_thread_ts.is_not(None),
            )
            .order_by(HandoffRow.id)
        )
        async with self._transaction("reading a customer's threads") as session:
            rows = (await session.execute(query)).all()
        return [DeskThread(channel=str(channel), thread_ts=str(ts)) for channel, ts in rows]

    async def customer_chats(self, customer_id: int) -> list[ConversationKey]:
        query = (
            select(ConversationRow.channel, ConversationRow.chat_id)
            .where(ConversationRow.customer_id == customer_id)
            .distinct()
        )
        async with self._transaction("reading a customer's chats") as session:
            rows = (await session.execute(query)).all()
        # In one order everywhere: an erasure takes these chats' locks one after another.
        keys = [ConversationKey(channel=str(c), chat_id=str(chat)) for c, chat in rows]
        return sorted(keys, key=str)

    async def has_open_conversation(self, customer_id: int) -> bool:
        query = select(ConversationRow.id).where(
            ConversationRow.customer_id == customer_id, ConversationRow.closed_at.is_(None)
        )
        async with self._transaction("reading a customer's conversations") as session:
            return (await session.scalars(query.limit(1))).first() is not None

    async def customer_files(self, customer_id: int) -> list[str]:
        """The ids the desk gave the customer's files when it took them (in the delivery
        detail's ``sent_id``; Slack's file ids start with F)."""
        query = (
            select(MessageRow.decision)
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .where(
                ConversationRow.customer_id == customer_id,
                MessageRow.author == Author.CUSTOMER.value,
                MessageRow.kind.in_([k.value for k in _FILE_KINDS]),
            )
            .order_by(MessageRow.id)
        )
        async with self._transaction("reading a customer's files") as session:
            decisions = (await session.scalars(query)).all()
        sent = [str((d or {}).get("sent_id") or "") for d in decisions]
        return [file_id for file_id in sent if file_id.startswith("F")]

    async def erase_customer(self, customer_id: int) -> Erased:
        conversations = select(ConversationRow.id).where(ConversationRow.customer_id == customer_id)
        handoffs = select(HandoffRow.id).where(HandoffRow.conversation_id.in_(conversations))
        async with self._transaction("erasing a customer") as session:
            await session.execute(
                delete(HandoffEventRow).where(HandoffEventRow.handoff_id.in_(handoffs))
            )
            handoff_count = await _deleted(
                session, delete(HandoffRow).where(HandoffRow.conversation_id.in_(conversations))
            )
            messages = await _deleted(
                session, delete(MessageRow).where(MessageRow.conversation_id.in_(conversations))
            )
            conversation_count = await _deleted(
                session, delete(ConversationRow).where(ConversationRow.customer_id == customer_id)
            )
            await session.execute(delete(CustomerRow).where(CustomerRow.id == customer_id))
        return Erased(conversations=conversation_count, messages=messages, handoffs=handoff_count)

    # --- the retention period -------------------------------------------------------------

    async def expire_texts(self, *, before: datetime, batch: int = EXPIRY_BATCH) -> Expired:
        """Texts (and what the NLU saw in them) of messages older than ``before`` removed;
        the rows stay, with their author, kind, intent, confidence and times.

        ``batch`` rows a transaction: each holds the write lock (SQLite's, for the whole
        database) only briefly, so customers' turns go on between them; a run cut short
        leaves what it did, and the next run goes on from there."""
        messages = 0
        while True:
            async with self._transaction("removing old message texts") as session:
                oldest = (
                    select(MessageRow.id)
                    .where(
                        MessageRow.created_at < before,
                        # The index's predicate, in brackets (ix_messages_texts_kept).
                        or_(MessageRow.text.is_not(None), MessageRow.nlu.is_not(None)),
                    )
                    .order_by(MessageRow.created_at)
                    .limit(batch)
                )
                done = await _deleted(
                    session,
                    update(MessageRow)
                    .where(MessageRow.id.in_(oldest.scalar_subquery()))
                    .values(text=None, nlu=None)
                    .execution_options(synchronize_session=False),
                )
            messages += done
            if done < batch:
                break
        return Expired(messages=messages, handoffs=await self._expire_cards(before, batch))

    async def _expire_cards(self, before: datetime, batch: int) -> int:
        """The card's copy of the failed turns' texts, kept to draw it again, blanked on
        the handoffs requested before ``before``, each once; how many had texts."""
        changed = 0
        while True:
            async with self._transaction("removing old texts from cards") as session:
                old = (
                    await session.scalars(
                        select(HandoffRow)
                        .where(
                            HandoffRow.requested_at < before,
                            HandoffRow.texts_removed_at.is_(None),  # ix_handoffs_texts_kept
                        )
                        .order_by(HandoffRow.requested_at)
                        .limit(batch)
                    )
                ).all()
                now = self._clock()
                for row in old:
                    stripped = without_texts(row.reason_detail)
                    card = card_without_texts(row.card)
                    if stripped != row.reason_detail or card != row.card:
                        row.reason_detail = stripped
                        row.card = card
                        changed += 1
                    row.texts_removed_at = now
            if len(old) < batch:
                return changed


async def _deleted(session: Any, statement: Any) -> int:
    result = await session.execute(statement)
    return int(result.rowcount or 0)
