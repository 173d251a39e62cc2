"""The values the store accepts and returns: immutable, detached from any database session."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from handoff.clock import as_utc
from handoff.errors import InvalidValue
from handoff.model import Author, ConversationKey, LiveConversation, MessageKind, Mode

JsonObject = Mapping[str, Any]
"""A JSON object as stored in ``nlu``, ``decision``, ``reason_detail`` and ``detail``."""


class Unset(Enum):
    """The type of :data:`UNSET`."""

    UNSET = "unset"


UNSET = Unset.UNSET
"""Default of optional update arguments: "leave as is", distinct from None ("set to NULL")."""


class Platform(StrEnum):
    """Where a stored message was sent or received."""

    TELEGRAM = "telegram"
    SLACK = "slack"
    INTERNAL = "internal"  # never left the service, e.g. a system note


class Delivery(StrEnum):
    """Where a stored message stands on its way to the other side (the outbox).

    NULL (None) means there is nothing to deliver: the customer's messages to the bot, and
    the bot's replies, which are sent before they are stored.
    """

    PENDING = "pending"  # stored, not yet delivered: redelivered until it is
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good (e.g. the customer blocked the bot): never retried
    RETRACTED = "retracted"  # delivered, then deleted in the customer's chat by an agent


class HandoffOutcome(StrEnum):
    """How a handoff ended."""

    CLOSED = "closed"  # the agent resolved it; the conversation is closed
    RETURNED = "returned"  # the agent gave the conversation back to the bot


class HandoffEventKind(StrEnum):
    """One step in a handoff's audit trail."""

    REQUESTED = "requested"
    CLAIMED = "claimed"
    TRANSFERRED = "transferred"
    RELEASED = "released"
    RETURNED = "returned"
    CLOSED = "closed"
    RATED = "rated"
    # Approval for sensitive topics (handoff.approvals).
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    APPROVAL_REFUSED = "approval_refused"


@dataclass(frozen=True, slots=True)
class Customer:
    """A person writing to the bot on one channel."""

    id: int
    channel: str
    platform_user_id: str
    display_name: str
    username: str | None
    language_code: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Conversation:
    """One stretch of a chat, from its first message until it is closed."""

    id: int
    customer_id: int
    channel: str
    chat_id: str
    mode: Mode
    failed_turns: int
    last_answered_intent: str | None
    opened_at: datetime
    closed_at: datetime | None
    rating: int | None
    rated_at: datetime | None

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(channel=self.channel, chat_id=self.chat_id)

    @property
    def is_open(self) -> bool:
        return self.mode is not Mode.CLOSED


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A message to store; validated on construction so a bad one never reaches SQL.

    ``platform_chat_id`` and ``platform_message_id`` identify the message on its platform
    (a Telegram chat id and message id, a Slack channel and ``ts``). When both are given
    the store keeps at most one copy, so a redelivered update is harmless.
    """

    conversation_id: int
    author: Author
    platform: Platform
    created_at: datetime
    text: str | None = None
    kind: MessageKind = MessageKind.TEXT
    author_id: str | None = None
    author_name: str | None = None
    intent: str | None = None
    confidence: float | None = None
    nlu: JsonObject | None = None
    decision: JsonObject | None = None
    platform_chat_id: str | None = None
    platform_message_id: str | None = None
    delivery: Delivery | None = None  # PENDING for what must still reach the other side

    def __post_init__(self) -> None:
        as_utc(self.created_at, field="created_at")
        if self.confidence is not None and not (
            math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0
        ):
            raise InvalidValue(f"confidence must be within 0..1, got {self.confidence!r}")
        # Message ids are only unique within a chat (Telegram) or channel (Slack), so an id
        # without its chat could not be de-duplicated correctly.
        if self.platform_message_id is not None and self.platform_chat_id is None:
            raise InvalidValue("platform_message_id needs platform_chat_id")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as stored."""

    id: int
    conversation_id: int
    author: Author
    author_id: str | None
    author_name: str | None
    kind: MessageKind
    text: str | None
    intent: str | None
    confidence: float | None
    nlu: JsonObject | None
    decision: JsonObject | None
    platform: Platform
    platform_chat_id: str | None
    platform_message_id: str | None
    created_at: datetime
    delivery: Delivery | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """A request for a person to take over a conversation, and what became of it."""

    id: int
    conversation_id: int
    reason: str
    reason_detail: JsonObject
    requested_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    returned_at: datetime | None
    agent_id: str | None
    agent_name: str | None
    agent_channel: str | None
    agent_thread_ts: str | None
    outcome: HandoffOutcome | None
    # What the card shows besides the state, captured when the handoff opened: the
    # customer and the transcript so far (see handoff.engine_support.card_record).
    card: JsonObject | None = None
    # The agents introduced to the customer in this handoff: their user id -> the id of the
    # message (their first reply) that the introduction goes out with.
    introduced: Mapping[str, int] = field(default_factory=dict)
    # When the unclaimed handoff was escalated by the SLA ladder (handoff.sla), if it was.
    escalated_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    @property
    def mode(self) -> Mode:
        """The conversation's mode while this handoff is open: an owner means a person has it.
        The owner is stored once, on the handoff; the mode is derived from it."""
        return Mode.HUMAN if self.agent_id else Mode.WAITING


@dataclass(frozen=True, slots=True)
class HandoffEvent:
    """One entry of a handoff's audit trail."""

    id: int
    handoff_id: int
    kind: HandoffEventKind
    actor_id: str | None
    actor_name: str | None
    detail: JsonObject | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ActiveConversation:
    """A conversation that is not closed, with its open handoff if it has one."""

    conversation: Conversation
    open_handoff: Handoff | None

    def live(self) -> LiveConversation:
        """The live-state entry to rebuild for this conversation after a restart."""
        handoff = self.open_handoff
        return LiveConversation(
            conversation_id=self.conversation.id,
            mode=self.conversation.mode if handoff is None else handoff.mode,
            failed_turns=self.conversation.failed_turns,
            last_answered_intent=self.conversation.last_answered_intent,
            handoff_id=None if self.open_handoff is None else self.open_handoff.id,
        )


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the NLU saw in a customer's message and what the policy decided."""

    intent: str | None
    confidence: float | None
    nlu: JsonObject | None
    decision: JsonObject | None

    def __post_init__(self) -> None:
        if self.confidence is not None and not (
            math.isfinite(self.confidence) and 0 <= self.confidence <= 1
        ):
            raise InvalidValue(f"confidence must be within 0..1, got {self.confidence!r}")


@dataclass(frozen=True, slots=True)
class RecordedTurn:
    """Everything one turn the bot answered changed, stored in one transaction: the analysis
    of the customer's message, the conversation's counters, and the bot's reply."""

    message_id: int  # the customer's message, stored when it arrived
    analysis: Analysis
    conversation_id: int
    failed_turns: int
    last_answered_intent: str | None
    reply: NewMessage
