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

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.conversations import EDITED, Conversations
from handoff.errors import DeliveryDeferred, DeliveryError, HandoffError
from handoff.model import Agent, Author, ConversationKey, CustomerRelay, Outbound
from handoff.ports import AgentDesk
from handoff.records import Delivery, Handoff, StoredMessage
from handoff.responses import Responses
from handoff.threads import Threads

logger = logging.getLogger(__name__)

REDELIVERY_BATCH = 100  # pending messages looked at per round; the rest wait for the next
NOT_BEFORE = "not_before"  # in a pending message's record: the platform asked to wait until
DELAY_TOLD = "delay_told"  # the agent was told their message is delayed


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


class Outcome(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good; what comes after it goes on
    WAITING = "waiting"  # still pending; what comes after it in its direction waits too


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
    ) -> None:
        self._memo = memo or MemorySentMemo()
        self._conversations = conversations
        self._wake = wake  # try again in so many seconds (the redelivery loop's alarm)
        self._repository = conversations.repository
        self._threads = threads
        self._desk = desk
        self._responses = responses
        self._texts = texts

    async def flush(
        self,
        conversation_id: int,
        key: ConversationKey,
        *,
        fresh: tuple[int, CustomerRelay] | None = None,
    ) -> dict[int, Outcome]:
        """Deliver the conversation's pending messages, oldest first, per direction.

        ``fresh`` is the message being relayed right now, with what only the live event
        has (a photo's bytes); the others are rebuilt from their records.
        """
        held: set[Author] = set()
        outcomes: dict[int, Outcome] = {}
        for message in await self._repository.pending_in(conversation_id):
            if message.author in held:
                outcomes[message.id] = Outcome.WAITING
                continue
            relay = fresh[1] if fresh is not None and fresh[0] == message.id else None
            outcome = await self._deliver(message, key, relay)
            outcomes[message.id] = outcome
            if outcome is Outcome.WAITING:
                held.add(message.author)
        return outcomes

    async def redeliver_pending(self, *, older_than: timedelta) -> int:
        """Deliver what was stored pending more than ``older_than`` ago (the process died
        before delivering it, or the other side could not take it); returns how many were
        delivered now."""
        pending = await self._repository.pending_deliveries(
            older_than=utc_now() - older_than, limit=REDELIVERY_BATCH
        )
        delivered = 0
        for conversation_id in dict.fromkeys(m.conversation_id for m in pending):
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

    async def _deliver(
        self, message: StoredMessage, key: ConversationKey, relay: CustomerRelay | None
    ) -> Outcome:
        if _not_before(message) > utc_now():
            return Outcome.WAITING
        handoff = await self._repository.latest_handoff_for(message.conversation_id)
        if message.author is Author.AGENT:
            return await self._to_customer(handoff, key, message)
        return await self._to_agents(handoff, key, message, relay)

    # --- to the customer ----------------------------------------------------------------

    async def _to_customer(
        self, handoff: Handoff | None, key: ConversationKey, message: StoredMessage
    ) -> Outcome:
        agent = Agent(message.author_id or "?", message.author_name or "An agent")
        if (already := await self._memo.recall(message.id)) is not None:
            await self._delivered(message, already)
            return Outcome.DELIVERED
        try:
            if handoff is not None and not await self._introduced(handoff, agent, message):
                text = self._responses.system("agent_joined", {"agent": agent.display_name})
                await self._conversations.say(handoff.conversation_id, key, text)
            sent, failure = await self._conversations.deliver(
                Outbound(key=key, text=message.text or "")
            )
        except DeliveryDeferred as exc:
            first = not (message.decision or {}).get(DELAY_TOLD)
            await self._defer(message, exc)
            if first and handoff is not None:
                seconds = f"{exc.retry_after:.0f}"
                await self._threads.tell(
                    handoff, agent, self._line(Line.DELAYED, handoff, agent, seconds=seconds)
                )
            return Outcome.WAITING
        if sent:
            await self._delivered(message, sent)
        else:
            await self._mark(message, Delivery.FAILED, {"undelivered": failure})
            if handoff is not None:
                await self._threads.tell(
                    handoff,
                    agent,
                    self._line(Line.UNDELIVERED, handoff, agent, failure=failure or ""),
                )
        logger.info(
            "relayed agent %s's message to %s (%s)",
            agent.user_id,
            key,
            "delivered" if sent else "failed",
        )
        return Outcome.DELIVERED if sent else Outcome.FAILED

    def _line(self, line: Line, handoff: Handoff, agent: Agent, **values: str) -> str:
        return self._texts.line(line, agent=agent.display_name, handoff=str(handoff.id), **values)

    async def _introduced(self, handoff: Handoff, agent: Agent, message: StoredMessage) -> bool:
        recent = await self._repository.recent_messages(handoff.conversation_id, limit=200)
        return any(
            m.author is Author.AGENT
            and m.author_id == agent.user_id
            and m.id < message.id
            and m.created_at >= handoff.requested_at
            and m.delivery is not Delivery.PENDING  # a delayed one has not introduced anyone
            for m in recent
        )

    # --- to the agents ------------------------------------------------------------------

    async def _to_agents(
        self,
        handoff: Handoff | None,
        key: ConversationKey,
        message: StoredMessage,
        relay: CustomerRelay | None,
    ) -> Outcome:
        if handoff is None or not (handoff.is_open or handoff.agent_thread_ts):
            # No thread to show it in, and a finished handoff gets no new card.
            await self._mark(message, Delivery.FAILED, {"undelivered": "no handoff thread"})
            return Outcome.FAILED
        thread = await self._threads.thread(handoff, key)
        if thread is None:
            return Outcome.WAITING  # the card could not be posted: Slack is away
        if relay is None:
            relay = CustomerRelay(
                kind=message.kind,
                text=message.text,
                edited=EDITED in (message.platform_message_id or ""),
            )
        if (already := await self._memo.recall(message.id)) is not None:
            await self._delivered(message, already)
            return Outcome.DELIVERED
        customer = await self._conversations.customer_of(message.conversation_id)
        try:
            posted = await self._desk.relay_to_agents(
                thread, replace(relay, outbox_id=message.id), customer=customer
            )
        except DeliveryDeferred as exc:
            await self._defer(message, exc)
            return Outcome.WAITING
        except DeliveryError as exc:
            logger.error(
                "could not show a customer message to agents (handoff %s): %s; retried later",
                handoff.id,
                exc,
            )
            return Outcome.WAITING
        await self._delivered(message, posted or "")
        return Outcome.DELIVERED

    # --- records --------------------------------------------------------------------------

    async def _defer(self, message: StoredMessage, delay: DeliveryDeferred) -> None:
        until = utc_now() + timedelta(seconds=delay.retry_after)
        logger.warning("message %s waits until %s: %s", message.id, until.isoformat(), delay)
        self._wake(delay.retry_after)
        await self._mark(
            message, Delivery.PENDING, {NOT_BEFORE: until.isoformat(), DELAY_TOLD: True}
        )

    async def _delivered(self, message: StoredMessage, sent_id: str) -> None:
        """Record a delivery; the memo holds it until the database has it, so that an outage
        between sending and recording never makes the message go out twice."""
        await self._memo.remember(message.id, sent_id)
        await self._mark(message, Delivery.DELIVERED, {"sent_id": sent_id} if sent_id else None)
        await self._memo.forget(message.id)

    async def _mark(
        self, message: StoredMessage, delivery: Delivery, detail: dict[str, Any] | None
    ) -> None:
        await self._repository.mark_delivery(message.id, delivery, detail=detail)


def _not_before(message: StoredMessage) -> datetime:
    value = (message.decision or {}).get(NOT_BEFORE)
    return (
        datetime.fromisoformat(value)
        if isinstance(value, str)
        else datetime.min.replace(tzinfo=utc_now().tzinfo)
    )
