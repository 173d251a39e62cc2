"""A handoff's place in the agents' tool: its card, its thread, notes and private lines.

Shared by the handoff lifecycle (:mod:`handoff.lifecycle`) and the outbox
(:mod:`handoff.outbox`): the card is posted when the handoff opens, or later, before the
first message that needs the thread, if Slack could not take it then. The card is drawn
from the handoff alone: what it shows besides the state was stored when it opened.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime

from handoff.clock import utc_now
from handoff.engine_support import ticket_from_handoff
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import Agent, CardState, ConversationKey, DeskThread, HandoffTicket
from handoff.ports import AgentDesk
from handoff.records import Handoff, HandoffEventKind
from handoff.routing import Routes
from handoff.store import ConversationStore
from handoff.transitions import state_of

# The audit entries that finish a handoff: who made them is who the finished card names.
_FINISHING = frozenset({HandoffEventKind.CLOSED, HandoffEventKind.RETURNED})

logger = logging.getLogger(__name__)


def thread_of(handoff: Handoff) -> DeskThread | None:
    if handoff.agent_channel and handoff.agent_thread_ts:
        return DeskThread(channel=handoff.agent_channel, thread_ts=handoff.agent_thread_ts)
    return None


class ThreadIndex:
    """Which handoff and chat an agents' thread belongs to, for the threads this process
    has seen: facts that never change, so that an agent's reply need not look them up.
    The oldest are forgotten beyond ``size``."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._known: OrderedDict[DeskThread, tuple[int, ConversationKey]] = OrderedDict()

    def remember(self, thread: DeskThread, handoff_id: int, key: ConversationKey) -> None:
        self._known[thread] = (handoff_id, key)
        self._known.move_to_end(thread)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    def get(self, thread: DeskThread) -> tuple[int, ConversationKey] | None:
        return self._known.get(thread)


class Threads:
    """Cards and threads of handoffs, through the :class:`~handoff.ports.AgentDesk` port."""

    def __init__(
        self,
        *,
        repository: ConversationStore,
        desk: AgentDesk,
        index: ThreadIndex,
        routes: Routes | None = None,
    ) -> None:
        self._repository = repository
        self._desk = desk
        self._index = index
        self._routes = routes or Routes()

    def _ticket(self, handoff: Handoff, key: ConversationKey) -> HandoffTicket:
        """The handoff's ticket with the route it takes (see :mod:`handoff.routing`)."""
        return self._routes.routed(ticket_from_handoff(handoff=handoff, key=key))

    async def open(self, handoff: Handoff, key: ConversationKey) -> None:
        """Post the card of a new handoff (if Slack is away, :meth:`thread` tries again)."""
        await self.thread(handoff, key)

    async def thread(self, handoff: Handoff, key: ConversationKey) -> DeskThread | None:
        """The handoff's thread; posts the card now if it could not be posted before.

        The thread is recorded as soon as the card is posted, before what follows the card
        there (:meth:`~handoff.ports.AgentDesk.follow_card`): those posts take a second each
        or more (Slack's pace, its rate limits), and meanwhile agents acting in the thread
        (:mod:`handoff.lookup` waits 1.55 s for it) and the SLA ladder found no handoff."""
        existing = thread_of(handoff)
        if existing is not None:
            return existing
        ticket = self._ticket(handoff, key)
        thread = await self._safe_open(ticket)
        if thread is not None:
            await self._link(handoff, key, thread)
            await self._desk.follow_card(thread, ticket)
        return thread

    async def refresh_card(
        self,
        handoff: Handoff,
        key: ConversationKey,
        *,
        changed_by: Agent | None = None,
        changed_at: datetime | None = None,
        rating: int | None = None,
    ) -> None:
        """Draw the card in the handoff's state, changed now unless ``changed_at`` says
        when; ``rating`` is the customer's, once rated (only a closed handoff's card shows
        it)."""
        thread = thread_of(handoff)
        if thread is None:
            return
        state = CardState(
            ticket=self._ticket(handoff, key),
            status=state_of(handoff),
            owner=Agent(handoff.agent_id, handoff.agent_name or handoff.agent_id)
            if handoff.agent_id
            else None,
            rating=rating,
            changed_by=changed_by,
            changed_at=changed_at or utc_now(),
            escalated=handoff.escalated_at is not None,
        )
        try:
            await self._desk.show_card(thread, state)
        except (DeliveryError, DeliveryDeferred) as exc:  # the next change draws it again
            logger.error("could not update the card of handoff %s: %s", handoff.id, exc)

    async def redraw(self, handoff: Handoff, key: ConversationKey) -> None:
        """Draw the card again with nothing changed in the handoff (a lesson taught in its
        thread, the SLA ladder). A finished handoff's card still says who finished it and
        when (its audit trail) and, once closed, the customer's rating."""
        if handoff.is_open:
            await self.refresh_card(handoff, key)
            return
        events = await self._repository.handoff_events(handoff.id)
        finish = next((e for e in reversed(events) if e.kind in _FINISHING), None)
        by = (
            Agent(finish.actor_id, finish.actor_name or finish.actor_id)
            if finish is not None and finish.actor_id
            else None
        )
        conversation = await self._repository.get_conversation(handoff.conversation_id)
        await self.refresh_card(
            handoff,
            key,
            changed_by=by,
            changed_at=handoff.closed_at or handoff.returned_at,
            rating=conversation.rating if conversation is not None else None,
        )

    async def note(self, handoff: Handoff, text: str) -> None:
        thread = thread_of(handoff)
        if thread is not None:
            try:
                await self._desk.post_note(thread, text)
            except (DeliveryError, DeliveryDeferred) as exc:
                logger.error("could not post a note for handoff %s: %s", handoff.id, exc)

    async def tell(self, handoff: Handoff, agent: Agent, text: str) -> None:
        thread = thread_of(handoff)
        if thread is not None:
            try:
                await self._desk.tell_agent(thread, agent, text)
            except (DeliveryError, DeliveryDeferred) as exc:
                logger.error(
                    "could not tell %s about handoff %s: %s", agent.user_id, handoff.id, exc
                )

    async def _safe_open(self, ticket: HandoffTicket) -> DeskThread | None:
        try:
            return await self._desk.open_handoff(ticket)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.error(
                "could not post handoff %s to agents: %s; retried on the next message",
                ticket.handoff_id,
                exc,
            )
            return None

    async def _link(self, handoff: Handoff, key: ConversationKey, thread: DeskThread) -> None:
        await self._repository.set_handoff_thread(
            handoff.id, agent_channel=thread.channel, thread_ts=thread.thread_ts
        )
        self._index.remember(thread, handoff.id, key)
