"""What a customer's export shows of each stored row, and what the retention period strips
from the handoff's copies of the texts (:mod:`handoff.storage.privacy_queries` reads and
writes the rows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from handoff.privacy.export import exported_delivery
from handoff.storage.tables import ConversationRow, CustomerRow, HandoffRow, MessageRow

_CUSTOMER_FIELDS = (
    "id",
    "channel",
    "platform_user_id",
    "display_name",
    "username",
    "language_code",
    "created_at",
)
_CONVERSATION_FIELDS = (
    "id",
    "channel",
    "chat_id",
    "mode",
    "opened_at",
    "closed_at",
    "rating",
    "rated_at",
)
_HANDOFF_FIELDS = (
    "id",
    "reason",
    "requested_at",
    "claimed_at",
    "closed_at",
    "returned_at",
    "agent_name",
    "outcome",
    "card",
)
_MESSAGE_FIELDS = (
    "id",
    "author",
    "author_name",
    "kind",
    "text",
    "intent",
    "confidence",
    "created_at",
)


def exported_customer(row: CustomerRow) -> dict[str, Any]:
    return _fields(row, _CUSTOMER_FIELDS)


def exported_conversation(
    row: ConversationRow, messages: Sequence[MessageRow], handoffs: Sequence[HandoffRow]
) -> dict[str, Any]:
    return {
        **_fields(row, _CONVERSATION_FIELDS),
        "messages": [exported_message(message) for message in messages],
        "handoffs": [_fields(handoff, _HANDOFF_FIELDS) for handoff in handoffs],
    }


def exported_message(row: MessageRow) -> dict[str, Any]:
    delivery = exported_delivery(
        author=row.author, platform=row.platform, delivery=row.delivery, decision=row.decision
    )
    return {**_fields(row, _MESSAGE_FIELDS), "delivery": delivery.value}


def without_texts(detail: dict[str, Any]) -> dict[str, Any]:
    """A handoff's reason detail with its failed turns' texts blanked."""
    turns = detail.get("failed_turns") or []
    if not any(turn.get("text") for turn in turns):
        return detail
    return {**detail, "failed_turns": [{**turn, "text": ""} for turn in turns]}


def card_without_texts(card: dict[str, Any] | None) -> dict[str, Any] | None:
    """A card with its transcript's texts blanked (it keeps a copy of the transcript as it
    was when the handoff opened, to draw the card again)."""
    lines = (card or {}).get("transcript") or []
    if not any(line.get("text") for line in lines):
        return card
    return {**(card or {}), "transcript": [{**line, "text": ""} for line in lines]}


def _fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    values = {}
    for name in names:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values
