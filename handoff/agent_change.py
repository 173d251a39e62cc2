"""What an agent's event stores, planned from the handoff and the transition the table
chose: pure, as it runs inside the store's transaction (see
:meth:`~handoff.store.ConversationStore.apply_agent_event`)."""

from __future__ import annotations

from datetime import datetime

from handoff.agent_records import AgentChange, AuditEntry, HandoffChange
from handoff.model import Agent, AgentReply, Author, ConversationKey, Mode
from handoff.outbox_records import BUTTONS, buttons_record
from handoff.rating import rating_buttons
from handoff.records import (
    UNSET,
    Delivery,
    Handoff,
    HandoffEventKind,
    HandoffOutcome,
    NewMessage,
    Platform,
    Unset,
)
from handoff.responses import Responses
from handoff.transitions import LeaveHandoff, Record, SayToCustomer, Transition

OWNERSHIP = frozenset({HandoffEventKind.CLAIMED, HandoffEventKind.TRANSFERRED})
_OUTCOMES = {
    HandoffEventKind.RETURNED: HandoffOutcome.RETURNED,
    HandoffEventKind.CLOSED: HandoffOutcome.CLOSED,
}


def plan_change(
    handoff: Handoff,
    planned: Transition,
    *,
    key: ConversationKey,
    agent: Agent,
    reply: AgentReply | None,
    responses: Responses,
    at: datetime,
) -> AgentChange:
    """What ``planned`` (the transition of an event by ``agent``) stores for ``handoff``:
    the agent's message (``reply``), what the customer is told, the owner or the end, the
    audit entries, the conversation leaving the handoff."""
    told: list[NewMessage] = []
    # The agent's first reply in the handoff goes out introduced (see the outbox).
    first = reply is not None and handoff.is_open and agent.user_id not in handoff.introduced
    introduce = agent.user_id if first else None
    owner: tuple[str, str] | Unset | None = UNSET
    outcome: HandoffOutcome | None = None
    audit: list[AuditEntry] = []
    leave: Mode | None = None
    for effect in planned.effects:
        match effect:
            case Record(kind=kind):
                if kind in OWNERSHIP:
                    owner = (agent.user_id, agent.display_name)
                elif kind is HandoffEventKind.RELEASED:
                    owner = None
                else:
                    outcome = _OUTCOMES[kind]
                audit.append(_entry(kind, agent, at, handoff.agent_name))
            case LeaveHandoff(mode=mode):
                leave = mode
            case SayToCustomer(key=name, ask_rating=ask_rating):
                told.append(
                    _said(
                        handoff,
                        key=key,
                        responses=responses,
                        name=name,
                        ask_rating=ask_rating,
                        at=at,
                    )
                )
            case _:
                pass  # effects past the store: the live state, what agents see
    change = None
    if owner is not UNSET or outcome is not None or introduce is not None:
        change = HandoffChange(
            at=at,
            owner=owner,
            owner_was=handoff.agent_id,
            keep_claimed_at=owner is not UNSET
            and owner is not None
            and handoff.agent_id is not None,
            outcome=outcome,
            introduce=introduce,
        )
    return AgentChange(
        reply=None if reply is None else agent_message(reply, handoff, at),
        told=tuple(told),
        handoff=change,
        audit=tuple(audit),
        leave=leave,
    )


def _entry(kind: HandoffEventKind, agent: Agent, at: datetime, previous: str | None) -> AuditEntry:
    """An audit entry; an ownership change says whom it was taken from."""
    moved_from = previous if kind in OWNERSHIP else None
    return AuditEntry(
        kind=kind,
        actor_id=agent.user_id,
        actor_name=agent.display_name,
        at=at,
        detail={"from": moved_from} if moved_from else None,
    )


def _said(
    handoff: Handoff,
    *,
    key: ConversationKey,
    responses: Responses,
    name: str,
    ask_rating: bool,
    at: datetime,
) -> NewMessage:
    """A message of ``responses.yml`` for the customer, stored pending with the event."""
    reply = responses.system(name)
    buttons = rating_buttons(handoff.conversation_id) if ask_rating else reply.buttons
    return NewMessage(
        conversation_id=handoff.conversation_id,
        author=Author.BOT,
        platform=Platform(key.channel),
        text=reply.text,
        decision={BUTTONS: buttons_record(buttons)} if buttons else None,
        created_at=at,
        delivery=Delivery.PENDING,
    )


def agent_message(reply: AgentReply, handoff: Handoff, at: datetime) -> NewMessage:
    """What the agent wrote, stored pending delivery while the handoff is open (so that if
    sending never happens it is redelivered)."""
    return NewMessage(
        conversation_id=handoff.conversation_id,
        author=Author.AGENT,
        author_id=reply.agent.user_id,
        author_name=reply.agent.display_name,
        platform=Platform.SLACK,
        platform_chat_id=reply.thread.channel,
        platform_message_id=reply.message_ts,
        text=reply.text,
        created_at=at,
        delivery=Delivery.PENDING if handoff.is_open else None,
    )
