"""What the outbox keeps about a message on its way: in its stored record (when it may be
tried again, whether the agent was told of a delay, whether to introduce the agent first,
the buttons to send with it), and outside the database (:class:`SentMemo`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from handoff.clock import utc_now
from handoff.model import Author, Button, ConversationKey
from handoff.records import NewMessage, Platform, StoredMessage

REDELIVERY_BATCH = 100  # pending messages looked at per round; the rest wait for the next
NOT_BEFORE = "not_before"  # in a pending message's record: the platform asked to wait until
DELAY_TOLD = "delay_told"  # the agent was told their message is delayed
INTRO_SENT = "intro_sent"  # the introduction went out (the reply itself waited or failed)
BUTTONS = "buttons"  # of a pending message of Tandem's (the rating buttons)


class SentMemo(Protocol):
    """What was sent but could not be recorded yet (the database was away just then): kept
    outside the database, so that the next attempt records it instead of sending it again.
    The intake journal keeps it on disk (:class:`~handoff.storage.journal.SqliteJournal`)."""

    async def remember(self, outbox_id: int, sent_id: str) -> None: ...

    async def recall(self, outbox_id: int) -> str | None: ...

    async def forget(self, outbox_id: int) -> None: ...


class MemorySentMemo:
    """A :class:`SentMemo` for one process's lifetime."""

    def __init__(self) -> None:
        self._sent: dict[int, str] = {}

    async def remember(self, outbox_id: int, sent_id: str) -> None:
        self._sent[outbox_id] = sent_id

    async def recall(self, outbox_id: int) -> str | None:
        return self._sent.get(outbox_id)

    async def forget(self, outbox_id: int) -> None:
        self._sent.pop(outbox_id, None)


def buttons_record(buttons: Sequence[Sequence[Button]]) -> list[list[dict[str, str]]]:
    """Buttons as kept in a pending message's record, to be sent with it."""
    return [[{"label": b.label, "data": b.data} for b in row] for row in buttons]


def buttons_of(record: Mapping[str, Any]) -> tuple[tuple[Button, ...], ...]:
    rows = record.get(BUTTONS) or []
    return tuple(tuple(Button(label=b["label"], data=b["data"]) for b in row) for row in rows)


def not_before(message: StoredMessage) -> datetime:
    value = (message.decision or {}).get(NOT_BEFORE)
    return (
        datetime.fromisoformat(value)
        if isinstance(value, str)
        else datetime.min.replace(tzinfo=utc_now().tzinfo)
    )


def introduction(
    message: StoredMessage, key: ConversationKey, text: str, sent: str | None, failure: str | None
) -> NewMessage:
    """The record of an agent's introduction, sent just before ``message`` (their first
    reply); stored with the reply's delivery."""
    return NewMessage(
        conversation_id=message.conversation_id,
        author=Author.BOT,
        platform=Platform(key.channel),
        platform_chat_id=key.chat_id if sent else None,
        platform_message_id=sent,
        text=text,
        decision={"undelivered": failure} if failure else None,
        created_at=utc_now(),
    )
