"""The values of an agent's event as the store takes it in one transaction
(:meth:`~handoff.store.ConversationStore.apply_agent_event`) and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handoff.model import Mode
from handoff.records import (
    UNSET,
    Handoff,
    HandoffEventKind,
    HandoffOutcome,
    JsonObject,
    NewMessage,
    StoredMessage,
    Unset,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffChange:
    """A change of an open handoff: its owner (claimed, transferred or released), its end,
    the agents introduced. ``owner_was`` guards an owner change: it applies only while the
    stored owner is still that agent id (None: unclaimed); otherwise another worker was
    quicker and the change is lost (see :class:`AppliedAgentEvent`)."""

    at: datetime
    owner: tuple[str, str] | Unset | None = UNSET  # (agent id, name); None releases
    owner_was: str | None = None
    keep_claimed_at: bool = False  # a transfer: ``claimed_at`` keeps the first claim
    outcome: HandoffOutcome | None = None
    introduce: str | None = None  # an agent id to add to ``introduced``, with the reply


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    kind: HandoffEventKind
    actor_id: str | None
    actor_name: str | None
    at: datetime
    detail: JsonObject | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentChange:
    """Everything one agent's event changes, stored in one transaction.

    ``reply`` (the agent's message) and then ``told`` (what the customer is told) are
    stored first; if the reply was stored before (a repeated platform message), nothing
    at all is applied. ``audit`` entries go with the handoff change and are dropped with it if its
    owner change is lost. ``leave`` ends the conversation's time with people: BOT (the
    failed-turn count starts again) or CLOSED.
    """

    reply: NewMessage | None = None
    told: tuple[NewMessage, ...] = ()
    handoff: HandoffChange | None = None
    audit: tuple[AuditEntry, ...] = ()
    leave: Mode | None = None


@dataclass(frozen=True, slots=True)
class AppliedAgentEvent:
    """What :meth:`~handoff.store.ConversationStore.apply_agent_event` did."""

    before: Handoff  # as read in the transaction, before the change
    after: Handoff
    repeat: bool  # a message was stored before: nothing was applied
    lost: str | None  # the owner change lost to another worker's: why, in words
    pending: tuple[StoredMessage, ...]  # the conversation's messages still to deliver
