"""Handoffs, from the request for a person to the end: the entry point of agents' events and
of the engine's customer side, wired from small parts.

Platform-neutral: agents' events arrive as :class:`AgentReply` / :class:`AgentAction` from
the agents' adapter (Slack); the card, the thread and notes go out through the
:class:`~handoff.ports.AgentDesk` port. The parts: :mod:`handoff.lifecycle` (the state
machine of :mod:`handoff.transitions`, applied), :mod:`handoff.relay` (both ways),
:mod:`handoff.outbox` (delivery, in order, once), :mod:`handoff.threads` (card and thread),
:mod:`handoff.lookup` (finding a handoff) and :mod:`handoff.rating`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import Clock, utc_now
from handoff.conversations import Conversations
from handoff.hours import ALWAYS_OPEN, BusinessHours
from handoff.lifecycle import Lifecycle
from handoff.lookup import Lookup
from handoff.model import (
    Agent,
    AgentAction,
    AgentCommand,
    AgentReply,
    ButtonAnswer,
    ConversationKey,
    Customer,
    DeskThread,
    Inbound,
    LiveConversation,
)
from handoff.outbox import Outbox, SentMemo
from handoff.policy import Decision
from handoff.ports import AgentDesk
from handoff.rating import Ratings, parse_rating, rating_buttons
from handoff.records import Handoff, StoredMessage
from handoff.relay import Relay
from handoff.responses import Responses
from handoff.retries import Retries
from handoff.revisions import Revisions
from handoff.routing import Routes
from handoff.sla import SlaSubject
from handoff.threads import ThreadIndex, Threads
from handoff.transitions import Event
from handoff.waiting import WaitingRoom

__all__ = ["HandoffDesk", "parse_rating", "rating_buttons"]

logger = logging.getLogger(__name__)


class HandoffDesk:
    """Implements :class:`~handoff.ports.AgentEventHandler`; the engine calls the customer side.

    ``texts`` is the agents' catalogue (:func:`~handoff.agent_texts.load_agent_texts`).
    """

    def __init__(
        self,
        *,
        conversations: Conversations,
        desk: AgentDesk,
        responses: Responses,
        texts: AgentTexts,
        transcript_lines: int = 12,
        wake: Callable[[float], None] = lambda seconds: None,
        memo: SentMemo | None = None,
        clock: Clock = utc_now,
        routes: Routes | None = None,
        hours: BusinessHours = ALWAYS_OPEN,
    ) -> None:
        self._conversations = conversations
        self._desk = desk
        self._texts = texts
        self._responses = responses
        index = ThreadIndex()
        self._lookup = Lookup(store=conversations.repository, index=index)
        threads = Threads(
            repository=conversations.repository, desk=desk, index=index, routes=routes
        )
        self._threads = threads
        self._outbox = Outbox(
            conversations=conversations,
            threads=threads,
            desk=desk,
            responses=responses,
            texts=texts,
            wake=wake,
            memo=memo,
            clock=clock,
        )
        self._relay = Relay(conversations=conversations, outbox=self._outbox, lookup=self._lookup)
        self._revisions = Revisions(conversations=conversations, desk=desk, texts=texts)
        self._retries = Retries(
            conversations=conversations, outbox=self._outbox, desk=desk, texts=texts
        )
        self._ratings = Ratings(conversations=conversations, threads=threads, responses=responses)
        self._lifecycle = Lifecycle(
            conversations=conversations,
            threads=threads,
            outbox=self._outbox,
            desk=desk,
            responses=responses,
            texts=self._texts,
            transcript_lines=transcript_lines,
            hours=hours,
        )
        self._waiting = WaitingRoom(
            conversations=conversations,
            return_to_bot=self._return_to_bot,
            threads=threads,
            responses=responses,
            texts=texts,
        )

    # --- the customer side (the engine holds the conversation's lock) --------------------

    async def request(
        self, live: LiveConversation, key: ConversationKey, customer: Customer, decision: Decision
    ) -> LiveConversation:
        """Hand the conversation to a person: record it, tell the customer (where they
        stand in the queue too), post the card."""
        return await self._lifecycle.open(live, key, customer, decision)

    async def other_button(self, live: LiveConversation, inbound: Inbound) -> None:
        """A press the engine does not handle: a choice of the wait update, or stale."""
        if not await self._waiting.choose(live, inbound):
            stale = self._responses.system("stale_button").text
            await self._conversations.channel.answer_button(
                ButtonAnswer(press_id=inbound.message_id, text=stale)
            )

    async def wait_update(self, subject: SlaSubject, waited: float) -> None:
        """The waiting customer's one update with choices (the SLA watcher's step)."""
        await self._waiting.send_update(subject, waited)

    async def relay_from_customer(
        self, live: LiveConversation, key: ConversationKey, inbound: Inbound, stored: StoredMessage
    ) -> None:
        """A customer's message while a person has the conversation: show it in the thread."""
        await self._relay.from_customer(live, key, inbound, stored)

    async def rate(self, inbound: Inbound, conversation_id: int, stars: int) -> None:
        """The customer pressed a rating button of a closed conversation."""
        await self._ratings.rate(inbound, conversation_id, stars)

    async def flush_outbox(self, conversation_id: int, key: ConversationKey) -> None:
        """Send what the conversation still has pending (the caller holds its lock)."""
        await self._outbox.flush(conversation_id, key)

    async def redeliver_pending(
        self, *, older_than: timedelta, stop: asyncio.Event | None = None
    ) -> int:
        """What a crash or an outage left pending, delivered now in order (see
        :class:`~handoff.outbox.Outbox`), until ``stop``; returns how many were delivered."""
        return await self._outbox.redeliver_pending(older_than=older_than, stop=stop)

    async def redeliver_due(self, *, stop: asyncio.Event | None = None) -> int:
        """What was held back until now (a platform's wait, the agent channel's turn)."""
        return await self._outbox.redeliver_due(stop=stop)

    # --- the agent side -------------------------------------------------------------------

    async def agent_reply(self, reply: AgentReply) -> None:
        found = await self._lookup.locate(reply.thread)
        if found is None:
            return  # a thread that is not a handoff: not ours to relay
        handoff_id, key = found
        async with self._conversations.lock(key):
            if reply.revises is not None:  # an edit or deletion of an earlier reply
                await self._revisions.revise(handoff_id, key, reply)
                return
            await self._lifecycle.act(
                handoff_id, key, Event.REPLY, agent=reply.agent, thread=reply.thread, reply=reply
            )

    async def agent_action(self, action: AgentAction) -> None:
        found = await self._lookup.locate(action.thread)
        if found is None:
            text = self._texts.line(Line.NOT_A_HANDOFF, agent=action.agent.display_name)
            await self._desk.tell_agent(action.thread, action.agent, text)
            return
        handoff_id, key = found
        async with self._conversations.lock(key):
            if action.command is AgentCommand.RETRY:  # about one reply, not the handoff
                await self._retries.retry(handoff_id, key, action)
                return
            if action.command is AgentCommand.RETRACT:  # about the bot's last answer
                await self._revisions.retract(handoff_id, key, action)
                return
            await self._lifecycle.act(
                handoff_id,
                key,
                Event(action.command.value),
                agent=action.agent,
                thread=action.thread,
            )

    async def redraw_card(self, handoff_id: int, key: ConversationKey) -> None:
        """Draw a handoff's card again, open or finished (the SLA ladder escalated it, a
        lesson was taught in its thread)."""
        async with self._conversations.lock(key):
            handoff = await self._conversations.repository.get_handoff(handoff_id)
            if handoff is not None:
                await self._threads.redraw(handoff, key)

    async def _return_to_bot(
        self, handoff: Handoff, key: ConversationKey, customer: Agent, thread: DeskThread
    ) -> None:
        """The waiting customer chose to go back to the bot (the caller holds the lock)."""
        await self._lifecycle.act(handoff.id, key, Event.RETURN, agent=customer, thread=thread)

    async def thread_of(self, handoff_id: int) -> DeskThread | None:
        """The thread of handoff number ``handoff_id`` (agents name it so in commands)."""
        return await self._lookup.thread_of(handoff_id)
