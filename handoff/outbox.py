"""The outbox: agents' replies to customers and customers' messages to agents, stored as
pending before they are sent, delivered once each, in order.

Per conversation and direction, messages leave in the order they were stored: a message
that cannot go now (Slack is away, Telegram asked to wait) holds back the ones after it, so
that a retry never lands after a later message. One that is refused for good (a blocked
bot) is marked failed and no longer holds anything back. Callers hold the conversation's
lock, so a message is never sent by two paths at once; a message marked delivered is never
sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import Clock, utc_now
from handoff.conversations import Conversations
from handoff.errors import DeliveryDeferred, HandoffError
from handoff.model import Agent, Author, ConversationKey, CustomerRelay, Outbound
from handoff.outbox_agents import ToAgents
from handoff.outbox_records import (
    DELAY_TOLD,
    INTRO_SENT,
    NOT_BEFORE,
    REDELIVERY_BATCH,
    MemorySentMemo,
    SentMemo,
    buttons_of,
    introduction,
    not_before,
)
from handoff.ports import AgentDesk
from handoff.receipts import Receipts
from handoff.records import Delivery, Handoff, NewMessage, StoredMessage
from handoff.responses import Responses
from handoff.threads import Threads

logger = logging.getLogger(__name__)

__all__ = ["NOT_BEFORE", "MemorySentMemo", "Outbox", "Outcome", "SentMemo"]


class Outcome(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good; what comes after it goes on
    WAITING = "waiting"  # still pending; what comes after it in its direction waits too


_OUTCOMES = {True: Outcome.DELIVERED, False: Outcome.FAILED, None: Outcome.WAITING}


class Outbox:
    def __init__(
        self,
        *,
        conversations: Conversations,
        threads: Threads,
        desk: AgentDesk,
        responses: Responses,
        texts: AgentTexts,
        wake: Callable[[float], None] = lambda seconds: None,
        memo: SentMemo | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._memo = memo or MemorySentMemo()
        self._now = clock
        self._conversations = conversations
        self._wake = wake  # try again in so many seconds (the redelivery loop's alarm)
        self._repository = conversations.repository
        self._threads = threads
        self._desk = desk
        self._responses = responses
        self._texts = texts
        self._receipts = Receipts(desk=desk, texts=texts)
        self._due: dict[int, datetime] = {}  # conversations held back, and until when
        self._to_agents = ToAgents(
            conversations=conversations,
            threads=threads,
            desk=desk,
            memo=self._memo,
            delivered=self._delivered,
            defer=self._defer,
            mark=self._mark,
            clock=clock,
        )

    async def flush(
        self,
        conversation_id: int,
        key: ConversationKey,
        *,
        fresh: tuple[int, CustomerRelay] | None = None,
        pending: Sequence[StoredMessage] | None = None,
        handoff: Handoff | None = None,
    ) -> dict[int, Outcome]:
        """Deliver the conversation's pending messages, oldest first, per direction.

        ``fresh`` is the message being relayed right now, with what only the live event
        has (a photo's bytes); the others are rebuilt from their records. ``pending`` and
        ``handoff`` (the conversation's latest) are read here unless the caller has them.
        """
        outcomes: dict[int, Outcome] = {}
        if pending is None:
            pending = await self._repository.pending_in(conversation_id)
        if not pending:
            return outcomes
        if handoff is None:
            handoff = await self._repository.latest_handoff_for(conversation_id)
        from_customer = [m for m in pending if m.author is Author.CUSTOMER]
        for message in pending:
            if message.author is Author.CUSTOMER:
                continue
            if Outcome.WAITING in outcomes.values():
                outcomes[message.id] = Outcome.WAITING
            else:
                outcomes[message.id] = await self._deliver(message, key, handoff)
        if from_customer:
            shown = await self._to_agents.deliver(handoff, key, from_customer, fresh)
            outcomes.update({i: _OUTCOMES[result] for i, result in shown.items()})
        return outcomes

    async def redeliver_pending(
        self, *, older_than: timedelta, stop: asyncio.Event | None = None
    ) -> int:
        """Deliver what was stored pending more than ``older_than`` ago (the process died
        before delivering it, or the other side could not take it); returns how many were
        delivered now. Once ``stop`` is set, no further conversation is begun (the rest is
        pending still: the next round, or the next start, delivers it)."""
        pending = await self._repository.pending_deliveries(
            older_than=self._now() - older_than, limit=REDELIVERY_BATCH
        )
        delivered = 0
        for conversation_id in dict.fromkeys(m.conversation_id for m in pending):
            if stop is not None and stop.is_set():
                break
            try:
                delivered += await self._redeliver(conversation_id)
            except HandoffError as exc:
                logger.error("could not redeliver in conversation %s: %s", conversation_id, exc)
        return delivered

    async def _redeliver(self, conversation_id: int) -> int:
        conversation = await self._repository.get_conversation(conversation_id)
        if conversation is None:
            return 0
        async with self._conversations.lock(conversation.key):
            outcomes = await self.flush(conversation_id, conversation.key)
        return sum(outcome is Outcome.DELIVERED for outcome in outcomes.values())

    async def redeliver_due(self, *, stop: asyncio.Event | None = None) -> int:
        """Deliver what was held back until now (a platform asked to wait, or the agent
        channel gave a thread a later turn), conversation by conversation, until ``stop``."""
        now = self._now()
        due = [conversation for conversation, at in self._due.items() if at <= now]
        delivered = 0
        for conversation_id in due:
            if stop is not None and stop.is_set():
                break
            del self._due[conversation_id]
            try:
                delivered += await self._redeliver(conversation_id)
            except HandoffError as exc:
                logger.error("could not redeliver in conversation %s: %s", conversation_id, exc)
        if self._due:  # the alarm keeps only the earliest time: set it for the next one
            self._wake((min(self._due.values()) - self._now()).total_seconds())
        return delivered

    async def _deliver(
        self, message: StoredMessage, key: ConversationKey, handoff: Handoff | None
    ) -> Outcome:
        """A message to the customer: an agent's, or Tandem's."""
        if not_before(message) > self._now():
            return Outcome.WAITING
        if message.author is Author.AGENT:
            return await self._to_customer(handoff, key, message)
        return await self._say(key, message)

    # --- to the customer ----------------------------------------------------------------

    async def _to_customer(
        self, handoff: Handoff | None, key: ConversationKey, message: StoredMessage
    ) -> Outcome:
        agent = Agent(message.author_id or "?", message.author_name or "An agent")
        record = message.decision or {}
        # The agent's first reply in the handoff (recorded with it) goes out introduced.
        first = handoff is not None and handoff.introduced.get(agent.user_id) == message.id
        introduce = first and not record.get(INTRO_SENT)
        if (already := await self._memo.recall(message.id)) is not None:
            text = self._responses.system("agent_joined", {"agent": agent.display_name}).text
            sent_intro = introduction(message, key, text, None, None) if introduce else None
            await self._delivered(message, already, sent_intro)  # both sent before an outage
            return Outcome.DELIVERED
        intro: NewMessage | None = None
        try:
            if introduce:
                intro = introduction(message, key, *await self._introduce(agent, key))
            sent, refusal = await self._conversations.attempt(
                Outbound(key=key, text=message.text or "", told_if_late=True)
            )
        except DeliveryDeferred as exc:
            first = not record.get(DELAY_TOLD)
            await self._defer(message, exc, intro)
            if first and handoff is not None:
                seconds = f"{exc.retry_after:.0f}"
                await self._threads.tell(
                    handoff, agent, self._line(Line.DELAYED, handoff, agent, seconds=seconds)
                )
            return Outcome.WAITING
        if sent:
            await self._delivered(message, sent, intro)
            await self._receipts.delivered(handoff, message)
        elif refusal is not None:
            failure = {"undelivered": str(refusal), "cause": refusal.cause.value}
            await self._mark(message, Delivery.FAILED, failure, intro)
            await self._receipts.failed(handoff, agent, message, refusal)
        logger.info(
            "relayed agent %s's message to %s (%s)",
            agent.user_id,
            key,
            "delivered" if sent else "failed",
        )
        return Outcome.DELIVERED if sent else Outcome.FAILED

    def _line(self, line: Line, handoff: Handoff, agent: Agent, **values: str) -> str:
        return self._texts.line(line, agent=agent.display_name, handoff=str(handoff.id), **values)

    async def _introduce(
        self, agent: Agent, key: ConversationKey
    ) -> tuple[str, str | None, str | None]:
        """Tell the customer who is answering: (the text, its id, why it failed)."""
        text = self._responses.system("agent_joined", {"agent": agent.display_name}).text
        # Told if late too: it goes out with the reply, and the agent waits on both.
        outbound = Outbound(key=key, text=text, told_if_late=True)
        return (text, *await self._conversations.deliver(outbound))

    async def _say(self, key: ConversationKey, message: StoredMessage) -> Outcome:
        """A message of Tandem's stored with an agent's event (returned, closed)."""
        if (already := await self._memo.recall(message.id)) is not None:
            await self._delivered(message, already)
            return Outcome.DELIVERED
        record = message.decision or {}
        outbound = Outbound(key=key, text=message.text or "", buttons=buttons_of(record))
        try:
            sent, failure = await self._conversations.deliver(outbound)
        except DeliveryDeferred as exc:
            await self._defer(message, exc)
            return Outcome.WAITING
        if sent:
            await self._delivered(message, sent)
            return Outcome.DELIVERED
        await self._mark(message, Delivery.FAILED, {"undelivered": failure})
        return Outcome.FAILED

    # --- records --------------------------------------------------------------------------

    async def _defer(
        self, message: StoredMessage, delay: DeliveryDeferred, intro: NewMessage | None = None
    ) -> None:
        until = self._now() + timedelta(seconds=delay.retry_after)
        logger.info("message %s waits until %s: %s", message.id, until.isoformat(), delay)
        self._due[message.conversation_id] = min(
            until, self._due.get(message.conversation_id, until)
        )
        self._wake(delay.retry_after)
        detail: dict[str, Any] = {NOT_BEFORE: until.isoformat(), DELAY_TOLD: True}
        await self._mark(message, Delivery.PENDING, detail, intro)

    async def _delivered(
        self, message: StoredMessage, sent_id: str, intro: NewMessage | None = None
    ) -> None:
        """Record a delivery; the memo holds it until the database has it, so that an outage
        between sending and recording never makes the message go out twice."""
        await self._memo.remember(message.id, sent_id)
        detail = {"sent_id": sent_id} if sent_id else None
        await self._mark(message, Delivery.DELIVERED, detail, intro)
        await self._memo.forget(message.id)

    async def _mark(
        self,
        message: StoredMessage,
        delivery: Delivery,
        detail: dict[str, Any] | None,
        intro: NewMessage | None = None,
    ) -> None:
        if intro is not None and intro.platform_message_id is not None:
            # The introduction went out with this attempt: a later one (after a wait, or the
            # agent's Retry of a failed reply) sends the reply alone. One that failed is not
            # recorded sent: the customer has not seen it, so the next attempt introduces.
            detail = {**(detail or {}), INTRO_SENT: True}
        await self._repository.mark_delivery(message.id, delivery, detail=detail, sent_before=intro)
