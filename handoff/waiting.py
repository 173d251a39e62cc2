"""Honest waiting for the customer: their place in the queue and an estimate measured from
recent handoffs (said plainly when there is nothing to measure yet), and one update after
``conversation.wait_update_after`` with three choices: keep waiting, go back to the bot, or
leave a message for later.

The estimate is the median time from request to claim of the last handoffs claimed: half of
them were picked up sooner, and the words in ``responses.yml`` say so. Nobody pretends to
be typing while nobody is there.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum

from handoff.agent_texts import AgentTexts, Line
from handoff.conversations import Conversations
from handoff.hours import ALWAYS_OPEN, BusinessHours, spoken_time
from handoff.model import (
    Agent,
    ButtonAnswer,
    ConversationKey,
    DeskThread,
    Inbound,
    LiveConversation,
)
from handoff.records import Handoff
from handoff.responses import Reply, Responses
from handoff.sla import SlaSubject, whole_minutes
from handoff.store import ConversationStore
from handoff.threads import Threads, thread_of

logger = logging.getLogger(__name__)

RECENT_CLAIMS = 20  # how many of the latest claims the estimate is measured on


class WaitChoice(StrEnum):
    """The buttons of the wait update (their data, as ``responses.yml`` names them)."""

    KEEP = "wait:keep"
    BOT = "wait:bot"
    LATER = "wait:later"


def parse_wait_choice(data: str | None) -> WaitChoice | None:
    try:
        return WaitChoice(data) if data else None
    except ValueError:
        return None


def estimate_seconds(claim_waits: Sequence[float]) -> float | None:
    """The median wait for a claim; None when there is nothing to measure."""
    return statistics.median(claim_waits) if claim_waits else None


async def with_queue(
    reply: Reply,
    handoff: Handoff,
    *,
    store: ConversationStore,
    responses: Responses,
    hours: BusinessHours = ALWAYS_OPEN,
) -> Reply:
    """``reply`` (the handoff's message) followed by where the customer stands in the
    queue and how long it may take, or, out of hours, when people are back and how long
    it may take from then (with the choices of going back to the bot or leaving a
    message): one message, not two. The estimate counts business seconds only: a handoff
    asked for at night and claimed at opening waited minutes, not the night."""
    position, claims = await store.queue_view(handoff.id, claims=RECENT_CLAIMS)
    estimate = estimate_seconds([hours.open_seconds(asked, took) for asked, took in claims])
    minutes = {} if estimate is None else {"minutes": str(whole_minutes(estimate))}
    closed = (handoff.card or {}).get("out_of_hours")
    if isinstance(closed, dict) and closed.get("back_at"):
        back = spoken_time(datetime.fromisoformat(str(closed["back_at"])), hours)
        out = responses.system("out_of_hours", {"back": back, **minutes})
        return Reply(text=f"{reply.text}\n\n{out.text}", buttons=(*reply.buttons, *out.buttons))
    values = {"position": str(position)}
    if estimate is None:
        queue = responses.system("queue_no_data", values)
    else:
        queue = responses.system("queue", {**values, **minutes})
    return Reply(text=f"{reply.text}\n\n{queue.text}", buttons=reply.buttons)


ReturnToBot = Callable[[Handoff, ConversationKey, Agent, DeskThread], Awaitable[object]]
"""Give the handoff back to the bot, by the customer (the lifecycle's RETURN)."""


class WaitingRoom:
    """The wait update and the customer's choices. Callers of :meth:`choose` hold the
    conversation's lock; :meth:`send_update` takes it."""

    def __init__(
        self,
        *,
        conversations: Conversations,
        return_to_bot: ReturnToBot,
        threads: Threads,
        responses: Responses,
        texts: AgentTexts,
    ) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._return_to_bot = return_to_bot
        self._threads = threads
        self._responses = responses
        self._texts = texts

    async def send_update(self, subject: SlaSubject, waited: float) -> None:
        """The one update of a long wait, with the choices (the SLA watcher's step)."""
        async with self._conversations.lock(subject.key):
            handoff = await self._store.get_handoff(subject.handoff_id)
            if handoff is None or not handoff.is_open or handoff.agent_id is not None:
                return  # claimed or finished meanwhile: nothing to say
            values = {
                "minutes": str(whole_minutes(waited)),
                "position": str(await self._store.queue_position(handoff.id)),
            }
            reply = self._responses.system("wait_update", values)
            await self._conversations.say(handoff.conversation_id, subject.key, reply)

    async def choose(self, live: LiveConversation, inbound: Inbound) -> bool:
        """A press of one of the update's buttons; False if the press is not one."""
        choice = parse_wait_choice(inbound.button)
        if choice is None:
            return False
        handoff = await self._waiting_handoff(live)
        if handoff is None:  # claimed or finished since the update: the choice is stale
            await self._answer(inbound, self._responses.system("stale_button").text)
            return True
        await self._answer(inbound)
        if choice is WaitChoice.BOT:
            name = self._texts.line(Line.WAIT_CUSTOMER, name=inbound.customer.display_name)
            customer = Agent(user_id=f"customer:{inbound.key}", display_name=name)
            thread = thread_of(handoff) or DeskThread(channel="", thread_ts="")
            await self._return_to_bot(handoff, inbound.key, customer, thread)
            return True
        if choice is WaitChoice.LATER:
            await self._threads.note(
                handoff, self._texts.line(Line.WAIT_LATER, handoff=str(handoff.id))
            )
        reply = self._responses.system(
            "wait_later" if choice is WaitChoice.LATER else "wait_keep",
            {"position": str(await self._store.queue_position(handoff.id))},
        )
        await self._conversations.say(live.conversation_id, inbound.key, reply)
        return True

    async def _waiting_handoff(self, live: LiveConversation) -> Handoff | None:
        if live.handoff_id is None:
            return None
        handoff = await self._store.get_handoff(live.handoff_id)
        if handoff is None or not handoff.is_open or handoff.agent_id is not None:
            return None
        return handoff

    async def _answer(self, inbound: Inbound, text: str | None = None) -> None:
        await self._conversations.channel.answer_button(
            ButtonAnswer(press_id=inbound.message_id, text=text)
        )
