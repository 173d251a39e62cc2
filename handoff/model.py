"""The platform-neutral model shared by the engine, the policy, the state and the storage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """Who is answering a conversation right now."""

    BOT = "bot"  # the bot answers
    WAITING = "waiting"  # handed off; no person has claimed it yet, the bot stays quiet
    HUMAN = "human"  # a person owns it
    CLOSED = "closed"  # resolved; the next customer message opens a new conversation


class Author(StrEnum):
    """Who wrote a stored message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Identifies a customer's chat on one channel, e.g. ``telegram:123456``."""

    channel: str
    chat_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class LiveConversation:
    """What every worker must agree on about a conversation while it is active.

    SQL is the record; this is the fast, shared copy the engine reads on every message.
    """

    conversation_id: int
    mode: Mode = Mode.BOT
    failed_turns: int = 0
    last_answered_intent: str | None = None
    handoff_id: int | None = None
