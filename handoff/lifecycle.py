"""A handoff's life: opened when the customer needs a person, then changed by agents' events
as :mod:`handoff.transitions` says, effect by effect, until it is returned or closed.

Callers hold the conversation's lock. An agent's event is stored in one transaction
(:mod:`handoff.agent_change` plans it from the handoff as read in it); the live state, the
card, notes and deliveries follow from what was stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from handoff.agent_change import plan_change
from handoff.agent_records import AgentChange, AppliedAgentEvent
from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.engine_support import card_record, ticket_detail
from handoff.hours import ALWAYS_OPEN, BusinessHours, closed_note
from handoff.model import (
    Agent,
    AgentReply,
    ConversationKey,
    Customer,
    DeskThread,
    LiveConversation,
    Mode,
)
from handoff.outbox import Outbox
from handoff.policy import Decision
from handoff.ports import AgentDesk
from handoff.records import Handoff
from handoff.responses import Responses
from handoff.threads import Threads, thread_of
from handoff.transitions import (
    STATUS_LINES,
    Effect,
    Event,
    FlushOutbox,
    LeaveHandoff,
    PostNote,
    RefreshCard,
    SayToCustomer,
    SetMode,
    TellAgent,
    Transition,
    state_of,
    transition,
)
from handoff.waiting import with_queue

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Step:
    """One event being applied: the handoff as the event left it (stored)."""

    handoff: Handoff
    key: ConversationKey
    agent: Agent
    thread: DeskThread  # where the agent acted
    previous: str | None  # who owned it before the event


class Lifecycle:
    def __init__(
        self,
        *,
        conversations: Conversations,
        threads: Threads,
        outbox: Outbox,
        desk: AgentDesk,
        responses: Responses,
        texts: AgentTexts,
        transcript_lines: int,
        hours: BusinessHours = ALWAYS_OPEN,
    ) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._threads = threads
        self._outbox = outbox
        self._desk = desk
        self._responses = responses
        self._texts = texts
        self._transcript_lines = transcript_lines
        self._hours = hours

    async def open(
        self, live: LiveConversation, key: ConversationKey, customer: Customer, decision: Decision
    ) -> LiveConversation:
        """Hand the conversation to a person: record it, tell the customer, post the card."""
        reason = decision.handoff_reason.value if decision.handoff_reason else "unspecified"
        transcript = await self._store.recent_messages(
            live.conversation_id, limit=self._transcript_lines
        )
        now = utc_now()
        card = card_record(customer, transcript)
        if (closed := closed_note(self._hours, now)) is not None:
            card["out_of_hours"] = closed  # the card says so; the customer is told when
        # An earlier try may have opened it before an outage cut it short: finish that one.
        handoff, _ = await self._store.request_handoff(
            conversation_id=live.conversation_id,
            reason=reason,
            reason_detail=ticket_detail(decision, transcript),
            card=card,
            at=now,
        )
        live = replace(
            live,
            mode=handoff.mode,  # an earlier try's handoff may have an owner by now
            handoff_id=handoff.id,
            failed_turns=0,
            last_answered_intent=None,
        )
        await self._conversations.state.put(key, live)  # SQL has it already
        logger.info("%s: handed to a person (handoff %s, %s)", key, handoff.id, reason)
        said = self._responses.system(f"handoff_{reason}")
        if handoff.agent_id is None:  # waiting: where in the queue, how long it may take
            said = await with_queue(
                said, handoff, store=self._store, responses=self._responses, hours=self._hours
            )
        await self._conversations.say(live.conversation_id, key, said)
        if thread_of(handoff) is not None:
            return live  # the earlier try posted the card
        await self._threads.open(handoff, key)
        return live

    async def act(
        self,
        handoff_id: int,
        key: ConversationKey,
        event: Event,
        *,
        agent: Agent,
        thread: DeskThread,
        reply: AgentReply | None = None,
    ) -> Handoff:
        """Apply what ``event`` by ``agent`` (with ``reply``, the agent's message, for a
        REPLY) does to the handoff; return the handoff after it.

        What the event changes is stored in one transaction, planned from the handoff as
        read in it; what it shows and sends follows. A repeated reply (stored before) only
        sends what is pending. A claim that loses a race (another worker was quicker)
        changes nothing else: the agent is told why; a reply still goes out.
        """
        plans: list[tuple[Handoff, Transition]] = []

        def plan(handoff: Handoff) -> AgentChange:
            planned = transition(handoff, event, agent.user_id)
            plans.append((handoff, planned))
            return plan_change(
                handoff,
                planned,
                key=key,
                agent=agent,
                reply=reply,
                responses=self._responses,
                at=utc_now(),
            )

        applied = await self._store.apply_agent_event(handoff_id, plan)
        before, planned = plans[-1]
        if applied.repeat:
            logger.info("repeated agent event in %s: only what is pending", key)
            # The first try may have been cut short (an outage) before it was sent.
            await self._outbox.flush(before.conversation_id, key)
            return applied.after
        step = _Step(applied.after, key, agent, thread, previous=before.agent_name)
        if applied.lost is not None:
            line = self._line(Line.CLAIM_FAILED, step, reason=applied.lost)
            await self._threads.tell(applied.after, agent, line)
            await self._send(applied, key)
            return applied.after
        flushed = False
        for effect in planned.effects:
            if isinstance(effect, SayToCustomer | FlushOutbox):
                if not flushed:  # what the event stored, behind anything waiting before it
                    await self._send(applied, key)
                flushed = True
            else:
                await self._apply(effect, step)
        if state_of(step.handoff) is not planned.next:  # the store disagrees
            logger.error(
                "handoff %s is %s after %s, not %s",
                handoff_id,
                state_of(step.handoff),
                event,
                planned.next,
            )
        return step.handoff

    async def _send(self, applied: AppliedAgentEvent, key: ConversationKey) -> None:
        await self._outbox.flush(
            applied.after.conversation_id, key, pending=applied.pending, handoff=applied.after
        )

    async def _apply(self, effect: Effect, step: _Step) -> None:
        """An effect past the store: the live state, and what agents see."""
        match effect:
            case SetMode():  # the live state's copy, derived from the handoff's owner
                live = await self._conversations.current(step.key)
                if live is not None and live.mode is not step.handoff.mode:
                    await self._conversations.state.put(
                        step.key, replace(live, mode=step.handoff.mode)
                    )
            case LeaveHandoff(mode=mode):
                await self._leave(mode, step.key)
            case PostNote(line=line):
                await self._threads.note(step.handoff, self._line(line, step))
            case TellAgent(line=line, best_effort=True):
                await self._threads.tell(step.handoff, step.agent, self._line(line, step))
            case TellAgent(line=line):  # an answer: if it cannot go, the event is retried
                await self._desk.tell_agent(step.thread, step.agent, self._line(line, step))
            case RefreshCard():
                await self._threads.refresh_card(step.handoff, step.key, changed_by=step.agent)
            case _:
                pass

    async def _leave(self, mode: Mode, key: ConversationKey) -> None:
        """The live state after the conversation left the handoff (SQL has it already)."""
        if mode is Mode.CLOSED:
            await self._conversations.state.delete(key)
            return
        live = await self._conversations.state.get(key)
        if live is not None:
            await self._conversations.state.put(
                key,
                replace(
                    live, mode=mode, handoff_id=None, failed_turns=0, last_answered_intent=None
                ),
            )

    def _line(self, line: Line, step: _Step, **extra: str) -> str:
        handoff = step.handoff
        values = {
            "agent": step.agent.display_name,
            "handoff": str(handoff.id),
            "previous": step.previous or "",
            "owner": handoff.agent_name or handoff.agent_id or "",
            **extra,
        }
        status = self._texts.line(STATUS_LINES[state_of(handoff)], **values)
        return self._texts.line(line, status=status, **values)
