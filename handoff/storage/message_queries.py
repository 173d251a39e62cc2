"""The repository's messages: de-duplicated on the way in, in storage order on the way out."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy import text as sql

from handoff.clock import as_utc
from handoff.errors import ConversationNotFound, InvalidValue, MessageNotFound
from handoff.records import Delivery, JsonObject, NewMessage, StoredMessage
from handoff.storage import dml, mapping
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json, clean_optional
from handoff.storage.tables import PENDING_DELIVERY, MessageRow


class MessageQueries(RepositoryBase):
    """The messages of conversations."""

    async def add_message(self, message: NewMessage) -> StoredMessage | None:
        """Store ``message``; None if this platform message was stored before.

        Safe against redelivery and against two workers storing the same update at once:
        exactly one of them gets the stored message.
        """
        missing = ConversationNotFound(f"no conversation {message.conversation_id}")
        # On the driver: see handoff.storage.direct and direct_sqlite.
        returned = await self._database.fetch_one(
            _ADD_MESSAGE[self._database.backend],
            message_values(message),
            doing="adding a message",
            returning=_MESSAGE_COLUMNS,
            missing_parent=missing,
        )
        return None if returned is None else mapping.message(cast(Any, returned))

    async def recent_messages(self, conversation_id: int, *, limit: int) -> list[StoredMessage]:
        """The conversation's last ``limit`` messages, oldest first, in the order stored."""
        if limit < 0:
            raise InvalidValue(f"limit must not be negative, got {limit}")
        async with self._transaction("reading messages") as session:
            rows = list(
                await session.scalars(
                    select(MessageRow)
                    .where(MessageRow.conversation_id == conversation_id)
                    # Ids follow storage order; platform timestamps can tie or run backwards.
                    .order_by(MessageRow.id.desc())
                    .limit(limit)
                )
            )
            return [mapping.message(row) for row in reversed(rows)]

    async def record_analysis(
        self,
        message_id: int,
        *,
        intent: str | None,
        confidence: float | None,
        nlu: JsonObject | None,
        decision: JsonObject | None,
    ) -> StoredMessage:
        """Attach what the NLU saw and what the policy decided to a stored customer message.

        The message is stored first and analysed afterwards, so a failing NLU never loses it.
        """
        if confidence is not None and not (math.isfinite(confidence) and 0 <= confidence <= 1):
            raise InvalidValue(f"confidence must be within 0..1, got {confidence!r}")
        async with self._transaction("recording a message's analysis") as session:
            row = await session.get(MessageRow, message_id)
            if row is None:
                raise MessageNotFound(f"no message {message_id}")
            row.intent = intent
            row.confidence = confidence
            row.nlu = None if nlu is None else clean_json(nlu)
            row.decision = None if decision is None else clean_json(decision)
            await session.flush()
            return mapping.message(row)

    async def find_message(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredMessage | None:
        """The stored copy of one platform message (what :meth:`add_message` de-duplicates on)."""
        async with self._transaction("finding a message") as session:
            row = (
                await session.scalars(
                    select(MessageRow).where(
                        MessageRow.platform == platform,
                        MessageRow.platform_chat_id == chat_id,
                        MessageRow.platform_message_id == message_id,
                    )
                )
            ).one_or_none()
            return None if row is None else mapping.message(row)

    async def get_message(self, message_id: int) -> StoredMessage | None:
        async with self._transaction("reading a message") as session:
            row = await session.get(MessageRow, message_id)
            return None if row is None else mapping.message(row)

    async def mark_delivery(
        self,
        message_id: int,
        delivery: Delivery,
        *,
        detail: JsonObject | None = None,
        sent_before: NewMessage | None = None,
    ) -> StoredMessage:
        """Record where a message stands on its way to the other side.

        ``detail`` (e.g. the platform's id of the delivered copy, or why it was refused) is
        merged into the message's ``decision``, where the bot's replies keep the same.
        ``sent_before`` (an agent's introduction, sent just before the message) is stored in
        the same transaction.
        """
        table = cast(Table, MessageRow.__table__)
        async with self._database.statements(doing="recording a message's delivery") as connection:
            if sent_before is not None:
                await connection.execute(insert(table).values(**message_values(sent_before)))
            values: dict[str, Any] = {"delivery": delivery.value}
            if detail:
                current = (
                    await connection.execute(
                        select(table.c.decision).where(table.c.id == message_id)
                    )
                ).one_or_none()
                if current is None:
                    raise MessageNotFound(f"no message {message_id}")
                values["decision"] = clean_json({**(current.decision or {}), **detail})
            row = (
                await connection.execute(
                    update(table).where(table.c.id == message_id).values(values).returning(table)
                )
            ).one_or_none()
            if row is None:
                raise MessageNotFound(f"no message {message_id}")
            return mapping.message(row)

    async def pending_deliveries(self, *, older_than: datetime, limit: int) -> list[StoredMessage]:
        """Messages still to be delivered that were stored before ``older_than``, oldest
        first (at most ``limit``)."""
        if limit < 0:
            raise InvalidValue(f"limit must not be negative, got {limit}")
        before = as_utc(older_than, field="older_than")
        async with self._transaction("reading messages to deliver") as session:
            rows = await session.scalars(
                select(MessageRow)
                # The literal predicate lets PostgreSQL use the partial index.
                .where(sql(PENDING_DELIVERY), MessageRow.created_at < before)
                .order_by(MessageRow.id)
                .limit(limit)
            )
            return [mapping.message(row) for row in rows]

    async def pending_in(self, conversation_id: int) -> list[StoredMessage]:
        """The conversation's messages still to be delivered, in the order stored."""
        async with self._transaction("reading a conversation's messages to deliver") as session:
            rows = await session.scalars(
                select(MessageRow)
                .where(sql(PENDING_DELIVERY), MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id)
            )
            return [mapping.message(row) for row in rows]


_PLATFORM_KEY = [MessageRow.platform, MessageRow.platform_chat_id, MessageRow.platform_message_id]


def insert_new(backend: str, message: NewMessage) -> Any:
    """``INSERT`` of ``message`` that stores nothing when its platform message is stored
    already (a repeat); add ``RETURNING`` to tell."""
    return (
        dml.insert(backend, MessageRow)
        .values(**message_values(message))
        .on_conflict_do_nothing(index_elements=_PLATFORM_KEY)
    )


# Built once, run with the row's values as parameters: building the statement per message
# (values(), its cache key) cost more CPU than running it.
_MESSAGE_COLUMNS = tuple(MessageRow.__table__.columns)
_ADD_MESSAGE = {
    backend: dml.insert(backend, MessageRow)
    .on_conflict_do_nothing(index_elements=_PLATFORM_KEY)
    .returning(*_MESSAGE_COLUMNS)
    for backend in ("sqlite", "postgresql")
}


def message_values(message: NewMessage) -> dict[str, Any]:
    """The row of ``message``, with text and JSON made storable on both backends."""
    return {
        "conversation_id": message.conversation_id,
        "author": message.author.value,
        "author_id": message.author_id,
        "author_name": clean_optional(message.author_name),
        "kind": message.kind.value,
        "text": clean_optional(message.text),
        "intent": message.intent,
        "confidence": message.confidence,
        "nlu": None if message.nlu is None else clean_json(message.nlu),
        "decision": None if message.decision is None else clean_json(message.decision),
        "platform": message.platform.value,
        "platform_chat_id": message.platform_chat_id,
        "platform_message_id": message.platform_message_id,
        "created_at": as_utc(message.created_at, field="created_at"),
        "delivery": None if message.delivery is None else message.delivery.value,
    }
