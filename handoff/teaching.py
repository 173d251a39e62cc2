"""Agents teach the bot from a handoff's thread: under each customer turn the bot failed,
Tandem offers the model's intents (its top guesses first); the intent an agent picks is
stored as a lesson (the text masked, who, when, the model that failed) for a trainer to
review, and the thread is told what was taught.

:class:`TeachingDesk` decorates the agents' desk in the composition root: after a card is
posted, the offers follow it in the thread. The engine never knows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.errors import DeliveryDeferred, DeliveryError, HandoffError
from handoff.forwarding import ForwardingDesk
from handoff.lessons import (
    Lesson,
    LessonError,
    LessonStore,
    NewLesson,
    check_intent_name,
    intent_choices,
    misunderstood,
)
from handoff.model import (
    Agent,
    Author,
    DeskThread,
    HandoffTicket,
)
from handoff.ports import AgentDesk
from handoff.privacy.masking import Masker
from handoff.records import Handoff, StoredMessage
from handoff.store import ConversationStore

logger = logging.getLogger(__name__)

MAX_OFFERS = 5  # the last failed turns of a handoff that get an offer


@dataclass(frozen=True, slots=True)
class TeachOffer:
    message_id: int
    text: str  # the customer's text, masked
    prompt: str  # what the offer says (the catalogue's)
    label: str  # the picker's label
    choices: tuple[str, ...]  # intents, the model's top guesses first


class TeachOffers(Protocol):
    """Where offers are posted (the Slack adapter implements it)."""

    async def offer_teaching(self, thread: DeskThread, offer: TeachOffer) -> None: ...


@dataclass(frozen=True, slots=True)
class TeachRequest:
    thread: DeskThread
    agent: Agent
    message_id: int
    intent: str  # one of the offer's choices, or a new intent's name


class Teacher:
    """Offers and takes lessons. ``intents`` are the model's (the trainers' domain);
    ``model`` names the model serving now (None when unknown: an external Rasa)."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        lessons: LessonStore,
        desk: AgentDesk,
        offers: TeachOffers,
        masker: Masker,
        texts: AgentTexts,
        intents: Sequence[str],
        model: Callable[[], str | None],
        transcript_lines: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._lessons = lessons
        self._desk = desk
        self._offers = offers
        self._masker = masker
        self._texts = texts
        self._intents = tuple(intents)
        self._model = model
        self._transcript_lines = transcript_lines
        self._clock = clock

    async def offer(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        """Post an offer under the card for each turn the bot failed before the handoff."""
        recent = await self._store.recent_messages(
            ticket.conversation_id, limit=self._transcript_lines
        )
        failed = [
            m
            for m in recent
            if m.author is Author.CUSTOMER and m.text and misunderstood(m.decision)
            if m.created_at <= ticket.requested_at
        ]
        for message in failed[-MAX_OFFERS:]:
            await self._offers.offer_teaching(thread, self._offer_for(message))

    async def teach(self, request: TeachRequest) -> Lesson | None:
        """Store what ``request`` teaches and tell the thread; None (and the agent told
        why) when it cannot be taught."""
        agent, thread = request.agent, request.thread
        found = await self._store.locate_thread(
            agent_channel=thread.channel, thread_ts=thread.thread_ts
        )
        if found is None:
            await self._tell(request, Line.NOT_A_HANDOFF, agent=agent.display_name)
            return None
        handoff, _key = found
        about = {"agent": agent.display_name, "handoff": str(handoff.id)}
        message = await self._customer_message(handoff, request.message_id)
        if message is None or message.text is None:
            await self._tell(request, Line.TEACHING_NOT_TEACHABLE, **about)
            return None
        try:
            intent = check_intent_name(request.intent)
        except LessonError:
            await self._tell(request, Line.TEACHING_BAD_INTENT, **about, intent=request.intent)
            return None
        lesson = await self._lessons.add_lesson(
            NewLesson(
                message_id=message.id,
                handoff_id=handoff.id,
                text=self._masker.text(message.text),
                intent=intent,
                taught_by_id=agent.user_id,
                taught_by_name=agent.display_name,
                taught_at=self._clock(),
                model=self._model(),
            )
        )
        logger.info("handoff %s: %s taught message %s", handoff.id, agent.user_id, message.id)
        await self._desk.post_note(
            thread,
            self._texts.line(Line.TEACHING_TAUGHT, **about, text=lesson.text, intent=intent),
        )
        return lesson

    def _offer_for(self, message: StoredMessage) -> TeachOffer:
        ranking = [str(g.get("intent")) for g in (message.nlu or {}).get("ranking") or []]
        return TeachOffer(
            message_id=message.id,
            text=self._masker.text(message.text or ""),
            prompt=self._texts.line(Line.TEACHING_OFFER),
            label=self._texts.line(Line.TEACHING_PICK),
            choices=tuple(intent_choices(ranking, self._intents)),
        )

    async def _customer_message(self, handoff: Handoff, message_id: int) -> StoredMessage | None:
        message = await self._store.get_message(message_id)
        if (
            message is None
            or message.conversation_id != handoff.conversation_id
            or message.author is not Author.CUSTOMER
        ):
            return None
        return message

    async def _tell(self, request: TeachRequest, line: Line, **values: str) -> None:
        await self._desk.tell_agent(request.thread, request.agent, self._texts.line(line, **values))


class TeachingDesk(ForwardingDesk):
    """The agents' desk, with teaching offers under each new card."""

    def __init__(self, *, inner: AgentDesk, teacher: Teacher) -> None:
        super().__init__(inner=inner)
        self._teacher = teacher

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        thread = await self._inner.open_handoff(ticket)
        if thread is not None:
            try:
                await self._teacher.offer(thread, ticket)
            except (HandoffError, DeliveryError, DeliveryDeferred) as exc:
                # The card is posted; offers are a help, not part of the handoff.
                logger.warning("handoff %s: no teaching offers: %s", ticket.handoff_id, exc)
        return thread
