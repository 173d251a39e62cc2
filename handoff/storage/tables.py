"""The SQL schema as SQLAlchemy declarative models, portable between SQLite and PostgreSQL.

These rows never leave :mod:`handoff.storage`; the repository maps them to the frozen
records in :mod:`handoff.records`. Enumerated columns are plain strings guarded by
CHECK constraints, so the schema stays readable from ``psql``/``sqlite3`` and needs no
PostgreSQL enum types. The migrations in ``migrations/versions`` are the authority on what
is deployed; a test compares them with these models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from handoff.lessons import LessonStatus
from handoff.model import Author, MessageKind, Mode
from handoff.privacy.audit import PrivacyEventKind
from handoff.records import Delivery, HandoffEventKind, HandoffOutcome, Platform
from handoff.storage.types import Id, Json, UtcDateTime

# Deterministic constraint names: migrations (and SQLite batch migrations, which rebuild
# tables) must be able to refer to a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Predicates of the partial unique indexes. They are literal SQL because PostgreSQL can only
# match an ``ON CONFLICT ... WHERE`` clause to a partial index when the predicate is not a
# bound parameter; the repository reuses them for that.
OPEN_CONVERSATION = "mode <> 'closed'"
OPEN_HANDOFF = "outcome IS NULL"
PENDING_DELIVERY = "delivery = 'pending'"
# Messages retention has not stripped yet (their text, or what the NLU saw in it).
TEXTS_KEPT = "text IS NOT NULL OR nlu IS NOT NULL"
# Handoffs whose card retention has not stripped yet (it strips each once).
CARD_TEXTS_KEPT = "texts_removed_at IS NULL"


def one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK expression allowing exactly the values of ``values`` (NULL passes a CHECK)."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String)
    platform_user_id: Mapped[str] = mapped_column(String)
    display_name: Mapped[str] = mapped_column(String)
    username: Mapped[str | None] = mapped_column(String)
    language_code: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(one_of("mode", Mode), name="mode"),
        CheckConstraint("failed_turns >= 0", name="failed_turns"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(
            "(mode = 'closed' AND closed_at IS NOT NULL)"
            " OR (mode <> 'closed' AND closed_at IS NULL)",
            name="closed_at",
        ),
        CheckConstraint(
            "(rating IS NULL AND rated_at IS NULL)"
            " OR (rating IS NOT NULL AND rated_at IS NOT NULL)",
            name="rated_at",
        ),
        Index("ix_conversations_channel_chat_id", "channel", "chat_id"),
        # `tandem stats` selects conversations by when they were opened.
        Index("ix_conversations_opened_at", "opened_at"),
        # The invariant "at most one open conversation per chat", enforced by the database so
        # that two workers racing to open one cannot both succeed.
        Index(
            "uq_conversations_open_chat",
            "channel",
            "chat_id",
            unique=True,
            sqlite_where=sql(OPEN_CONVERSATION),
            postgresql_where=sql(OPEN_CONVERSATION),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String)
    chat_id: Mapped[str] = mapped_column(String)
    mode: Mapped[str] = mapped_column(String)
    failed_turns: Mapped[int] = mapped_column(server_default=sql("0"))
    last_answered_intent: Mapped[str | None] = mapped_column(String)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(one_of("author", Author), name="author"),
        CheckConstraint(one_of("kind", MessageKind), name="kind"),
        CheckConstraint(one_of("platform", Platform), name="platform"),
        CheckConstraint(one_of("delivery", Delivery), name="delivery"),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence"),
        CheckConstraint(
            "platform_message_id IS NULL OR platform_chat_id IS NOT NULL",
            name="platform_chat_id",
        ),
        # Telegram message ids are unique per chat and Slack ``ts`` per channel, so the chat
        # is part of the key. Rows without a platform id (NULL) never collide.
        UniqueConstraint("platform", "platform_chat_id", "platform_message_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # The outbox: the few messages still to be delivered, found without a table scan.
        Index(
            "ix_messages_pending_delivery",
            "id",
            sqlite_where=sql(PENDING_DELIVERY),
            postgresql_where=sql(PENDING_DELIVERY),
        ),
        # Retention: the messages whose texts are kept, oldest first, without a table scan.
        Index(
            "ix_messages_texts_kept",
            "created_at",
            sqlite_where=sql(TEXTS_KEPT),
            postgresql_where=sql(TEXTS_KEPT),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id"))
    author: Mapped[str] = mapped_column(String)
    author_id: Mapped[str | None] = mapped_column(String)
    author_name: Mapped[str | None] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String, server_default=sql("'text'"))
    text: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String)
    confidence: Mapped[float | None] = mapped_column(Float)
    nlu: Mapped[dict[str, Any] | None] = mapped_column(Json)
    decision: Mapped[dict[str, Any] | None] = mapped_column(Json)
    platform: Mapped[str] = mapped_column(String)
    platform_chat_id: Mapped[str | None] = mapped_column(String)
    platform_message_id: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivery: Mapped[str | None] = mapped_column(String)


class HandoffRow(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(one_of("outcome", HandoffOutcome), name="outcome"),
        CheckConstraint(
            "(outcome IS NULL AND closed_at IS NULL AND returned_at IS NULL)"
            " OR (outcome = 'closed' AND closed_at IS NOT NULL AND returned_at IS NULL)"
            " OR (outcome = 'returned' AND returned_at IS NOT NULL AND closed_at IS NULL)",
            name="outcome_at",
        ),
        CheckConstraint(
            "agent_thread_ts IS NULL OR agent_channel IS NOT NULL", name="agent_thread_ts"
        ),
        # A Slack thread belongs to one handoff, so a reply in it finds its customer.
        UniqueConstraint("agent_channel", "agent_thread_ts"),
        # At most one handoff per conversation is in progress at a time.
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=sql(OPEN_HANDOFF),
            postgresql_where=sql(OPEN_HANDOFF),
        ),
        # Retention: the handoffs whose cards still hold texts, oldest first.
        Index(
            "ix_handoffs_texts_kept",
            "requested_at",
            sqlite_where=sql(CARD_TEXTS_KEPT),
            postgresql_where=sql(CARD_TEXTS_KEPT),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String)
    reason_detail: Mapped[dict[str, Any]] = mapped_column(Json)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Indexed: the waiting customer's estimate reads the latest claims (handoff.waiting).
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agent_id: Mapped[str | None] = mapped_column(String)
    agent_name: Mapped[str | None] = mapped_column(String)
    agent_channel: Mapped[str | None] = mapped_column(String)
    agent_thread_ts: Mapped[str | None] = mapped_column(String)
    outcome: Mapped[str | None] = mapped_column(String)
    # What the card shows besides the state, captured when the handoff opened.
    card: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # The agents introduced to the customer in this handoff: a JSON object of their user
    # ids and the id of the message (their first reply) the introduction goes out with.
    introduced: Mapped[dict[str, int] | None] = mapped_column(Json)
    # The SLA ladder's steps taken (handoff.sla): when the agents were re-pinged, when it
    # was escalated, and when its owner was last pinged for a reply.
    repinged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    idle_pinged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the waiting customer got their one update with choices (handoff.waiting).
    wait_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When retention blanked the texts in the card and the reason detail (handoff.privacy).
    texts_removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HandoffEventRow(Base):
    __tablename__ = "handoff_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", HandoffEventKind), name="kind"),
        Index("ix_handoff_events_handoff_id_at", "handoff_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(Id, ForeignKey("handoffs.id"))
    kind: Mapped[str] = mapped_column(String)
    actor_id: Mapped[str | None] = mapped_column(String)
    actor_name: Mapped[str | None] = mapped_column(String)
    detail: Mapped[dict[str, Any] | None] = mapped_column(Json)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PrivacyEventRow(Base):
    """The privacy audit trail (:mod:`handoff.privacy.audit`). No foreign keys: an entry
    outlives the customer, conversation and handoff it names (an erasure is recorded here)."""

    __tablename__ = "privacy_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", PrivacyEventKind), name="kind"),
        Index("ix_privacy_events_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str | None] = mapped_column(String)
    actor_name: Mapped[str | None] = mapped_column(String)
    customer_id: Mapped[int | None] = mapped_column(Id)
    handoff_id: Mapped[int | None] = mapped_column(Id)
    message_ids: Mapped[list[int] | None] = mapped_column(Json)
    count: Mapped[int | None] = mapped_column()


class LessonRow(Base):
    """What agents taught the bot (:mod:`handoff.lessons`). No foreign keys: a lesson's text
    is masked and outlives the conversation it came from (an erasure, the retention period);
    ``message_id`` keeps one lesson per message."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint(one_of("status", LessonStatus), name="status"),
        UniqueConstraint("message_id"),
        Index("ix_lessons_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(Id)
    handoff_id: Mapped[int | None] = mapped_column(Id)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String)
    taught_by_id: Mapped[str] = mapped_column(String)
    taught_by_name: Mapped[str] = mapped_column(String)
    taught_at: Mapped[datetime] = mapped_column(UtcDateTime)
    model: Mapped[str | None] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    reviewed_by: Mapped[str | None] = mapped_column(String)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
