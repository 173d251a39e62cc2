"""The port of the conversation store: what the core keeps in SQL, and nothing of how.

:class:`handoff.storage.Repository` implements it on SQLite and PostgreSQL; the core (the
engine, the handoff lifecycle, the outbox, the threads) types against this Protocol only,
so that importing the core loads no SQL library. Every method raises
:class:`~handoff.errors.StorageError` (or a subclass) and returns frozen records from
:mod:`handoff.records`; timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from handoff.agent_records import AgentChange, AppliedAgentEvent
from handoff.model import ConversationKey, Mode
from handoff.records import (
    UNSET,
    ActiveConversation,
    Conversation,
    Customer,
    Delivery,
    Handoff,
    HandoffEvent,
    HandoffEventKind,
    JsonObject,
    NewMessage,
    RecordedTurn,
    StoredMessage,
    Unset,
)


class ConversationStore(Protocol):
    """Customers, conversations, messages and handoffs.

    An agent's event (a reply, claim, transfer, release, return or close) changes a handoff
    only through :meth:`apply_agent_event`, in one transaction; the handoff's owner is the
    one record of who has the conversation.
    """

    # --- customers -----------------------------------------------------------------------

    async def get_or_create_customer(
        self,
        *,
        channel: str,
        platform_user_id: str,
        display_name: str,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Customer:
        """The customer with this platform id, created if new."""
        ...

    async def get_customer(self, customer_id: int) -> Customer | None: ...

    # --- conversations -------------------------------------------------------------------

    async def get_conversation(self, conversation_id: int) -> Conversation | None: ...

    async def get_open_conversation(self, *, channel: str, chat_id: str) -> Conversation | None:
        """The chat's conversation that is not closed, if there is one."""
        ...

    async def open_conversation(
        self, *, customer_id: int, channel: str, chat_id: str, at: datetime | None = None
    ) -> Conversation:
        """Start a conversation in bot mode."""
        ...

    async def update_conversation(
        self,
        conversation_id: int,
        *,
        mode: Mode | Unset = UNSET,
        failed_turns: int | Unset = UNSET,
        last_answered_intent: str | Unset | None = UNSET,
    ) -> Conversation:
        """Change the given fields of an open conversation; the others are left as they are."""
        ...

    async def close_conversation(
        self, conversation_id: int, *, at: datetime | None = None
    ) -> Conversation:
        """Close an open conversation; raises :class:`ConversationClosed` if it already is."""
        ...

    async def rate_conversation(
        self, conversation_id: int, *, rating: int, at: datetime | None = None
    ) -> Conversation:
        """Record the customer's satisfaction (1..5); a later rating replaces an earlier one."""
        ...

    async def active_conversations(self) -> list[ActiveConversation]:
        """Every conversation that is not closed, with its open handoff, oldest first."""
        ...

    # --- messages ------------------------------------------------------------------------

    async def add_message(self, message: NewMessage) -> StoredMessage | None:
        """Store ``message``; None if this platform message was stored before."""
        ...

    async def recent_messages(self, conversation_id: int, *, limit: int) -> list[StoredMessage]:
        """The conversation's last ``limit`` messages, oldest first, in the order stored."""
        ...

    async def record_analysis(
        self,
        message_id: int,
        *,
        intent: str | None,
        confidence: float | None,
        nlu: JsonObject | None,
        decision: JsonObject | None,
    ) -> StoredMessage:
        """Attach what the NLU saw and what the policy decided to a stored customer message."""
        ...

    async def find_message(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredMessage | None:
        """The stored copy of one platform message (what :meth:`add_message` de-duplicates on)."""
        ...

    async def get_message(self, message_id: int) -> StoredMessage | None: ...

    async def mark_delivery(
        self,
        message_id: int,
        delivery: Delivery,
        *,
        detail: JsonObject | None = None,
        sent_before: NewMessage | None = None,
    ) -> StoredMessage:
        """Record where a message stands on its way to the other side; ``sent_before`` is a
        message sent just before it (an agent's introduction), stored in the same
        transaction."""
        ...

    async def pending_deliveries(self, *, older_than: datetime, limit: int) -> list[StoredMessage]:
        """Messages still to be delivered, stored before ``older_than``, oldest first."""
        ...

    async def pending_in(self, conversation_id: int) -> list[StoredMessage]:
        """The conversation's messages still to be delivered, in the order stored."""
        ...

    async def record_turn(self, turn: RecordedTurn) -> None:
        """What one answered turn changed (analysis, counters, the bot's reply), at once."""
        ...

    # --- handoffs ------------------------------------------------------------------------

    async def request_handoff(
        self,
        *,
        conversation_id: int,
        reason: str,
        reason_detail: Mapping[str, Any],
        card: Mapping[str, Any],
        at: datetime | None = None,
    ) -> tuple[Handoff, bool]:
        """Hand the conversation to people, in one transaction: a new handoff with its
        "requested" audit entry (or the one an earlier try opened), the conversation
        waiting with its failed-turn count cleared. Returns the handoff and whether it is
        new."""
        ...

    async def get_handoff(self, handoff_id: int) -> Handoff | None: ...

    async def open_handoff_for(self, conversation_id: int) -> Handoff | None:
        """The conversation's handoff in progress (neither closed nor returned), if any."""
        ...

    async def latest_handoff_for(self, conversation_id: int) -> Handoff | None:
        """The conversation's most recent handoff, open or finished (for its rating)."""
        ...

    async def set_handoff_thread(
        self, handoff_id: int, *, agent_channel: str, thread_ts: str
    ) -> Handoff:
        """Link the handoff to the agents' thread that discusses it."""
        ...

    async def add_handoff_event(
        self,
        handoff_id: int,
        *,
        kind: HandoffEventKind,
        actor_id: str | None = None,
        actor_name: str | None = None,
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> HandoffEvent:
        """Append to the handoff's audit trail."""
        ...

    async def locate_thread(
        self, *, agent_channel: str, thread_ts: str
    ) -> tuple[Handoff, ConversationKey] | None:
        """The handoff of an agents' thread (open or not) and its conversation's chat."""
        ...

    async def apply_agent_event(
        self, handoff_id: int, plan: Callable[[Handoff], AgentChange]
    ) -> AppliedAgentEvent:
        """One agent's event, in one transaction: read the handoff (locked against other
        writers), ask ``plan`` (pure, quick) what the event changes, store it, and read the
        conversation's messages still to deliver. Raises :class:`HandoffNotFound`."""
        ...

    async def queue_position(self, handoff_id: int) -> int:
        """Where an unclaimed handoff stands among those waiting for a person: 1 is next."""
        ...

    async def queue_view(
        self, handoff_id: int, *, claims: int
    ) -> tuple[int, list[tuple[datetime, datetime]]]:
        """In one read: the handoff's place in the queue, and when the last ``claims``
        handoffs claimed were requested and claimed (the waiting room counts the business
        seconds between)."""
        ...

    async def handoff_events(self, handoff_id: int) -> list[HandoffEvent]:
        """The handoff's audit trail in time order (ties in the order recorded)."""
        ...
