"""A handoff's life: opened when the customer needs a person, then changed by agents' events
as :mod:`handoff.transitions` says, effect by effect, until it is returned or closed.

Callers hold the conversation's lock and pass a handoff read under it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from handoff.agent_texts import AgentTexts, Line
from handoff.audit import record_event
from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.engine_support import ticket_detail, ticket_from_handoff
from handoff.errors import Conflict
from handoff.model import Agent, ConversationKey, Customer, DeskThread, LiveConversation, Mode
from handoff.outbox import Outbox
from handoff.policy import Decision
from handoff.ports import AgentDesk
from handoff.rating import rating_buttons
from handoff.records import Handoff, HandoffEventKind, HandoffOutcome
from handoff.responses import Reply, Responses
from handoff.threads import Threads, thread_of
from handoff.transitions import (
    STATUS_LINES,
    Effect,
    Event,
    FlushOutbox,
    LeaveHandoff,
    PostNote,
    Record,
    RefreshCard,
    SayToCustomer,
    SetMode,
    TellAgent,
    state_of,
    transition,
)

logger = logging.getLogger(__name__)

_OWNERSHIP = frozenset({HandoffEventKind.CLAIMED, HandoffEventKind.TRANSFERRED})
_OUTCOMES = {
    HandoffEventKind.RETURNED: HandoffOutcome.RETURNED,
    HandoffEventKind.CLOSED: HandoffOutcome.CLOSED,
}


@dataclass(slots=True)
class _Step:
    """One event being applied: the handoff as the last effect left it."""

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
    ) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._threads = threads
        self._outbox = outbox
        self._desk = desk
        self._responses = responses
        self._texts = texts
        self._transcript_lines = transcript_lines

    async def open(
        self, live: LiveConversation, key: ConversationKey, customer: Customer, decision: Decision
    ) -> LiveConversation:
        """Hand the conversation to a person: record it, tell the customer, post the card."""
        reason = decision.handoff_reason.value if decision.handoff_reason else "unspecified"
        transcript = await self._store.recent_messages(
            live.conversation_id, limit=self._transcript_lines
        )
        # An earlier try may have opened it before an outage cut it short: finish that one.
        handoff = await self._store.open_handoff_for(live.conversation_id)
        if handoff is None:
            handoff = await self._store.create_handoff(
                conversation_id=live.conversation_id,
                reason=reason,
                reason_detail=ticket_detail(decision, transcript),
                at=utc_now(),
            )
            await record_event(
                self._store, handoff, HandoffEventKind.REQUESTED, None, detail={"reason": reason}
            )
        live = replace(
            live,
            mode=Mode.WAITING,
            handoff_id=handoff.id,
            failed_turns=0,
            last_answered_intent=None,
        )
        await self._conversations.save(key, live)
        logger.info("%s: handed to a person (handoff %s, %s)", key, handoff.id, reason)
        await self._conversations.say(
            live.conversation_id, key, self._responses.system(f"handoff_{reason}")
        )
        if thread_of(handoff) is not None:
            return live  # the earlier try posted the card
        ticket = ticket_from_handoff(
            handoff=handoff, key=key, customer=customer, transcript=transcript
        )
        await self._threads.open(handoff, ticket)
        return live

    async def act(
        self,
        handoff: Handoff,
        key: ConversationKey,
        event: Event,
        *,
        agent: Agent,
        thread: DeskThread,
    ) -> Handoff:
        """Apply what ``event`` by ``agent`` does to ``handoff``; return the handoff after it.

        A claim or transfer that loses a race (another worker was quicker) ends the change:
        the agent is told why; only sending what is pending still happens.
        """
        step = _Step(handoff, key, agent, thread, previous=handoff.agent_name)
        planned = transition(handoff, event, agent.user_id)
        won = True
        for effect in planned.effects:
            if won or isinstance(effect, FlushOutbox):
                won = await self._apply(effect, step) and won
        if won and state_of(step.handoff) is not planned.next:  # the store disagrees
            logger.error(
                "handoff %s is %s after %s, not %s",
                handoff.id,
                state_of(step.handoff),
                event,
                planned.next,
            )
        return step.handoff

    async def _apply(self, effect: Effect, step: _Step) -> bool:
        match effect:
            case Record(kind=kind):
                return await self._record(kind, step)
            case SetMode(mode=mode):
                live = await self._conversations.current(step.key)
                if live is not None and live.mode is not mode:
                    await self._conversations.save(step.key, replace(live, mode=mode))
            case LeaveHandoff(mode=mode):
                await self._leave(mode, step.key)
            case SayToCustomer(key=name, ask_rating=ask_rating):
                reply = self._responses.system(name)
                conversation_id = step.handoff.conversation_id
                if ask_rating:
                    reply = Reply(text=reply.text, buttons=rating_buttons(conversation_id))
                await self._conversations.say(conversation_id, step.key, reply)
            case PostNote(line=line):
                await self._threads.note(step.handoff, self._line(line, step))
            case TellAgent(line=line, best_effort=True):
                await self._threads.tell(step.handoff, step.agent, self._line(line, step))
            case TellAgent(line=line):  # an answer: if it cannot go, the event is retried
                await self._desk.tell_agent(step.thread, step.agent, self._line(line, step))
            case RefreshCard():
                await self._threads.refresh_card(step.handoff, step.key, changed_by=step.agent)
            case FlushOutbox():
                # Behind any earlier reply still waiting: the customer reads them in order.
                await self._outbox.flush(step.handoff.conversation_id, step.key)
        return True

    async def _record(self, kind: HandoffEventKind, step: _Step) -> bool:
        handoff, agent = step.handoff, step.agent
        try:
            if kind is HandoffEventKind.CLAIMED:
                handoff = await self._store.claim_handoff(
                    handoff.id, agent_id=agent.user_id, agent_name=agent.display_name, at=utc_now()
                )
            elif kind is HandoffEventKind.TRANSFERRED:
                handoff = await self._store.transfer_handoff(
                    handoff.id, agent_id=agent.user_id, agent_name=agent.display_name, at=utc_now()
                )
            elif kind is HandoffEventKind.RELEASED:
                handoff = await self._store.release_handoff(handoff.id)
            else:
                handoff = await self._store.finish_handoff(
                    handoff.id, outcome=_OUTCOMES[kind], at=utc_now()
                )
        except Conflict as exc:
            if kind not in _OWNERSHIP:
                raise
            line = self._line(Line.CLAIM_FAILED, step, reason=str(exc))
            await self._threads.tell(handoff, agent, line)
            return False
        step.handoff = handoff
        ownership = kind in _OWNERSHIP and step.previous
        detail: dict[str, object] | None = {"from": step.previous} if ownership else None
        await record_event(self._store, handoff, kind, agent, detail=detail)
        return True

    async def _leave(self, mode: Mode, key: ConversationKey) -> None:
        live = await self._conversations.current(key)
        if live is None:
            return
        live = replace(live, mode=mode, handoff_id=None)
        if mode is Mode.BOT:  # back to the bot with a clean slate: the count starts again
            live = replace(live, failed_turns=0, last_answered_intent=None)
        await self._conversations.save(key, live)

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
