"""The repository's conversations: opening, mode changes, closing, ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import (
    ConversationAlreadyOpen,
    ConversationClosed,
    ConversationNotFound,
    CustomerNotFound,
    InvalidRating,
    InvalidValue,
    StorageError,
)
from handoff.model import Mode
from handoff.records import UNSET, ActiveConversation, Conversation, Unset
from handoff.storage import dml, mapping
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.tables import OPEN_CONVERSATION, ConversationRow, HandoffRow

MIN_RATING = 1
MAX_RATING = 5


class ConversationQueries(RepositoryBase):
    """Conversations and what the engine tracks about them."""

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        async with self._transaction("reading a conversation") as session:
            row = await session.get(ConversationRow, conversation_id)
            return None if row is None else mapping.conversation(row)

    async def get_open_conversation(self, *, channel: str, chat_id: str) -> Conversation | None:
        """The chat's conversation that is not closed, if there is one."""
        async with self._transaction("reading the open conversation") as session:
            row = (
                await session.scalars(
                    select(ConversationRow).where(
                        ConversationRow.channel == channel,
                        ConversationRow.chat_id == chat_id,
                        ConversationRow.mode != Mode.CLOSED.value,
                    )
                )
            ).one_or_none()
            return None if row is None else mapping.conversation(row)

    async def open_conversation(
        self, *, customer_id: int, channel: str, chat_id: str, at: datetime | None = None
    ) -> Conversation:
        """Start a conversation in bot mode.

        Raises :class:`ConversationAlreadyOpen` if the chat has one that is not closed,
        also when another worker opened it a moment ago.
        """
        opened_at = self._at(at, "opened_at")
        async with self._transaction("opening a conversation") as session:
            statement = (
                dml.insert(self._database.backend, ConversationRow)
                .values(
                    customer_id=customer_id,
                    channel=channel,
                    chat_id=chat_id,
                    mode=Mode.BOT.value,
                    failed_turns=0,
                    opened_at=opened_at,
                )
                .on_conflict_do_nothing(
                    index_elements=[ConversationRow.channel, ConversationRow.chat_id],
                    index_where=sql(OPEN_CONVERSATION),
                )
                .returning(ConversationRow)
            )
            row = await self._insert_unless_conflict(
                session, statement, missing_parent=CustomerNotFound(f"no customer {customer_id}")
            )
            if row is None:
                raise ConversationAlreadyOpen(
                    f"{channel}:{chat_id} already has an open conversation"
                )
            return mapping.conversation(row)

    async def update_conversation(
        self,
        conversation_id: int,
        *,
        mode: Mode | Unset = UNSET,
        failed_turns: int | Unset = UNSET,
        last_answered_intent: str | Unset | None = UNSET,
    ) -> Conversation:
        """Change the given fields of an open conversation; the others are left as they are.

        Closing goes through :meth:`close_conversation`, which also records when.
        """
        values: dict[str, Any] = {}
        if not isinstance(mode, Unset):
            if mode is Mode.CLOSED:
                raise InvalidValue("close a conversation with close_conversation")
            values["mode"] = mode.value
        if not isinstance(failed_turns, Unset):
            if failed_turns < 0:
                raise InvalidValue(f"failed_turns must not be negative, got {failed_turns}")
            values["failed_turns"] = failed_turns
        if not isinstance(last_answered_intent, Unset):
            values["last_answered_intent"] = last_answered_intent
        async with self._transaction("updating a conversation") as session:
            if not values:
                return await self._existing_conversation(session, conversation_id)
            row = (
                await session.scalars(
                    update(ConversationRow)
                    .where(
                        ConversationRow.id == conversation_id,
                        ConversationRow.mode != Mode.CLOSED.value,
                    )
                    .values(values)
                    .returning(ConversationRow)
                )
            ).one_or_none()
            if row is None:
                raise await self._why_conversation_unchanged(session, conversation_id)
            return mapping.conversation(row)

    async def close_conversation(
        self, conversation_id: int, *, at: datetime | None = None
    ) -> Conversation:
        """Close an open conversation; raises :class:`ConversationClosed` if it already is."""
        closed_at = self._at(at, "closed_at")
        async with self._transaction("closing a conversation") as session:
            row = (
                await session.scalars(
                    update(ConversationRow)
                    .where(
                        ConversationRow.id == conversation_id,
                        ConversationRow.mode != Mode.CLOSED.value,
                    )
                    .values(mode=Mode.CLOSED.value, closed_at=closed_at)
                    .returning(ConversationRow)
                )
            ).one_or_none()
            if row is None:
                raise await self._why_conversation_unchanged(session, conversation_id)
            return mapping.conversation(row)

    async def rate_conversation(
        self, conversation_id: int, *, rating: int, at: datetime | None = None
    ) -> Conversation:
        """Record the customer's satisfaction (1..5); a later rating replaces an earlier one."""
        # bool is an int in Python, but True is not a rating.
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not MIN_RATING <= rating <= MAX_RATING
        ):
            raise InvalidRating(
                f"rating must be a whole number from {MIN_RATING} to {MAX_RATING}, got {rating!r}"
            )
        rated_at = self._at(at, "rated_at")
        async with self._transaction("rating a conversation") as session:
            row = (
                await session.scalars(
                    update(ConversationRow)
                    .where(ConversationRow.id == conversation_id)
                    .values(rating=rating, rated_at=rated_at)
                    .returning(ConversationRow)
                )
            ).one_or_none()
            if row is None:
                raise ConversationNotFound(f"no conversation {conversation_id}")
            return mapping.conversation(row)

    async def active_conversations(self) -> list[ActiveConversation]:
        """Every conversation that is not closed, with its open handoff, oldest first.

        What a restarted service needs to rebuild the live state (see
        :meth:`ActiveConversation.live`).
        """
        async with self._transaction("listing active conversations") as session:
            result = await session.execute(
                select(ConversationRow, HandoffRow)
                .outerjoin(
                    HandoffRow,
                    and_(
                        HandoffRow.conversation_id == ConversationRow.id,
                        HandoffRow.outcome.is_(None),
                    ),
                )
                .where(ConversationRow.mode != Mode.CLOSED.value)
                .order_by(ConversationRow.id)
            )
            return [
                ActiveConversation(
                    conversation=mapping.conversation(conversation),
                    open_handoff=None if handoff is None else mapping.handoff(handoff),
                )
                for conversation, handoff in result
            ]

    async def _existing_conversation(
        self, session: AsyncSession, conversation_id: int
    ) -> Conversation:
        row = await session.get(ConversationRow, conversation_id)
        if row is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        return mapping.conversation(row)

    async def _why_conversation_unchanged(
        self, session: AsyncSession, conversation_id: int
    ) -> StorageError:
        # Only called after a conditional UPDATE matched nothing: missing, or closed.
        await self._existing_conversation(session, conversation_id)
        return ConversationClosed(f"conversation {conversation_id} is closed")
