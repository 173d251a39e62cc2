"""Copying table rows into the frozen records handed to callers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from handoff.model import Author, MessageKind, Mode
from handoff.records import (
    Conversation,
    Customer,
    Delivery,
    Handoff,
    HandoffEvent,
    HandoffEventKind,
    HandoffOutcome,
    Platform,
    StoredMessage,
)
from handoff.storage.tables import (
    ConversationRow,
    CustomerRow,
    HandoffEventRow,
    HandoffRow,
    MessageRow,
)


def customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        channel=row.channel,
        platform_user_id=row.platform_user_id,
        display_name=row.display_name,
        username=row.username,
        language_code=row.language_code,
        created_at=row.created_at,
    )


def conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        customer_id=row.customer_id,
        channel=row.channel,
        chat_id=row.chat_id,
        mode=Mode(row.mode),
        failed_turns=row.failed_turns,
        last_answered_intent=row.last_answered_intent,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        rating=row.rating,
        rated_at=row.rated_at,
    )


def message(row: MessageRow | Row[Any]) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        conversation_id=row.conversation_id,
        author=Author(row.author),
        author_id=row.author_id,
        author_name=row.author_name,
        kind=MessageKind(row.kind),
        text=row.text,
        intent=row.intent,
        confidence=row.confidence,
        nlu=row.nlu,
        decision=row.decision,
        platform=Platform(row.platform),
        platform_chat_id=row.platform_chat_id,
        platform_message_id=row.platform_message_id,
        created_at=row.created_at,
        delivery=None if row.delivery is None else Delivery(row.delivery),
    )


def handoff(row: HandoffRow | Row[Any]) -> Handoff:
    return Handoff(
        id=row.id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        reason_detail=row.reason_detail,
        requested_at=row.requested_at,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        returned_at=row.returned_at,
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        agent_channel=row.agent_channel,
        agent_thread_ts=row.agent_thread_ts,
        outcome=None if row.outcome is None else HandoffOutcome(row.outcome),
        card=row.card,
        introduced={str(agent): int(message) for agent, message in (row.introduced or {}).items()},
        escalated_at=row.escalated_at,
    )


def handoff_event(row: HandoffEventRow) -> HandoffEvent:
    return HandoffEvent(
        id=row.id,
        handoff_id=row.handoff_id,
        kind=HandoffEventKind(row.kind),
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        detail=row.detail,
        at=row.at,
    )
