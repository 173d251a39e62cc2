"""Agents teach the bot from a handoff's thread: under each customer turn the bot failed,
Tandem offers the model's intents (its top guesses first); the intent an agent picks is
stored as a lesson (the text masked, who, when, the model that failed) for a trainer to
review, and the thread and the card are told what was taught. Any other customer message
Tandem relayed into the thread can be taught too (the "Teach the bot this" shortcut), in a
form that also takes a new intent's name (:class:`TeachForm`).

:class:`TeachingDesk` decorates the agents' desk in the composition root: after a card is
posted and its thread recorded, the offers follow it there. The engine never knows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.errors import DeliveryDeferred, DeliveryError, HandoffError
from handoff.forwarding import ForwardingDesk
from handoff.lessons import (
    OUT_OF_SCOPE,
    Lesson,
    LessonError,
    LessonStore,
    NameProblem,
    NewLesson,
    check_intent_name,
    intent_choices,
    misunderstood,
    new_intent_problem,
)
from handoff.model import (
    Agent,
    Author,
    CardState,
    DeskThread,
    HandoffTicket,
)
from handoff.ports import AgentDesk
from handoff.privacy.masking import Masker
from handoff.records import Handoff, StoredMessage
from handoff.store import ConversationStore
from handoff.teaching_model import CardRedraw, TeachForm, TeachOffer, TeachOffers, TeachRequest

logger = logging.getLogger(__name__)

MAX_OFFERS = 5  # the last failed turns of a handoff that get an offer
CARD_LESSONS = 5  # the newest lessons of a handoff its card shows
CARD_TEXT = 60  # characters of a lesson's text on the card
# How far back in a conversation a shortcut's message is looked for (its stored messages).
RELAYED_REACH = 1_000
_NAME_LINES = {
    NameProblem.INVALID: Line.TEACHING_NAME_INVALID,
    NameProblem.TAKEN: Line.TEACHING_NAME_TAKEN,
    NameProblem.RESERVED: Line.TEACHING_NAME_RESERVED,
}


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
        self.cards: CardRedraw | None = None  # given once the handoff desk is built

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
        handoff, key = found
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
        if self.cards is not None:
            await self.cards.redraw_card(handoff.id, key)
        return lesson

    async def form(
        self, thread: DeskThread, agent: Agent, *, post_ts: str = "", message_id: int = 0
    ) -> TeachForm | str:
        """The form for one customer message of ``thread``'s handoff: the one Tandem posted
        as ``post_ts`` there (the agent chooses which when the post shows several), or the
        stored ``message_id``. Otherwise what to tell the agent (a message that is not a
        customer's, a thread that is not a handoff's)."""
        found = await self._store.locate_thread(
            agent_channel=thread.channel, thread_ts=thread.thread_ts
        )
        if found is None:
            return self._texts.line(Line.NOT_A_HANDOFF, agent=agent.display_name)
        handoff, _key = found
        if post_ts:
            messages = await self._relayed(handoff, post_ts)
        else:
            messages = [m for m in [await self._customer_message(handoff, message_id)] if m]
        messages = [m for m in messages if m.text]
        if not messages:
            about = {"agent": agent.display_name, "handoff": str(handoff.id)}
            return self._texts.line(Line.TEACHING_NOT_TEACHABLE, **about)
        merged = len(messages) > 1
        return TeachForm(
            thread=thread,
            offer=self._offer_for(*messages),
            title=self._texts.line(Line.TEACHING_FORM_TITLE),
            new=self._texts.line(Line.TEACHING_FORM_NEW),
            hint=self._texts.line(Line.TEACHING_FORM_HINT),
            submit=self._texts.line(Line.TEACHING_FORM_SUBMIT),
            merged=tuple((m.id, self._masker.text(m.text or "")) for m in messages if merged),
            which=self._texts.line(Line.TEACHING_FORM_WHICH) if merged else "",
        )

    def name_problem(self, name: str) -> str | None:
        """What is wrong with ``name`` as a new intent's (the catalogue's words); None when
        nothing is."""
        problem = new_intent_problem(name, [*self._intents, OUT_OF_SCOPE])
        return None if problem is None else self._texts.line(_NAME_LINES[problem], intent=name)

    def choose_one(self) -> str:
        """What the form says when it names no intent, or two."""
        return self._texts.line(Line.TEACHING_CHOOSE_ONE)

    def choose_message(self) -> str:
        """What the form of a post of several messages says when none was chosen."""
        return self._texts.line(Line.TEACHING_CHOOSE_MESSAGE)

    async def taught(self, handoff_id: int) -> tuple[str, ...]:
        """The card's lines about what agents taught in the handoff's thread."""
        lessons = await self._lessons.lessons(handoff_id=handoff_id)
        return tuple(
            self._texts.line(
                Line.TEACHING_CARD,
                agent=lesson.taught_by_name,
                text=_short(lesson.text),
                intent=lesson.intent,
            )
            for lesson in lessons[-CARD_LESSONS:]
        )

    def _offer_for(self, message: StoredMessage, *more: StoredMessage) -> TeachOffer:
        """The offer for ``message`` (or for it and ``more``, a post's: each one's text on
        a line, the model's guesses for each of them in turn first)."""
        ranking = [
            str(g.get("intent"))
            for m in (message, *more)
            for g in (m.nlu or {}).get("ranking") or []
        ]
        return TeachOffer(
            message_id=message.id,
            text=self._masker.text("\n".join(m.text or "" for m in (message, *more))),
            prompt=self._texts.line(Line.TEACHING_OFFER),
            label=self._texts.line(Line.TEACHING_PICK),
            choices=tuple(intent_choices(ranking, self._intents)),
            other=self._texts.line(Line.TEACHING_OTHER),
        )

    async def _relayed(self, handoff: Handoff, post_ts: str) -> list[StoredMessage]:
        """The customer messages Tandem posted as ``post_ts`` (their deliveries'
        ``sent_id``), in order: one, or several merged into one post."""
        recent = await self._store.recent_messages(handoff.conversation_id, limit=RELAYED_REACH)
        return [
            m
            for m in recent
            if m.author is Author.CUSTOMER and (m.decision or {}).get("sent_id") == post_ts
        ]

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

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        await self._inner.follow_card(thread, ticket)
        try:
            await self._teacher.offer(thread, ticket)
        except (HandoffError, DeliveryError, DeliveryDeferred) as exc:
            # The card is posted; offers are a help, not part of the handoff.
            logger.warning("handoff %s: no teaching offers: %s", ticket.handoff_id, exc)

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        try:
            taught = await self._teacher.taught(state.ticket.handoff_id)
        except HandoffError as exc:  # the card's state matters more than this help
            logger.warning(
                "handoff %s: card drawn without lessons: %s", state.ticket.handoff_id, exc
            )
            taught = ()
        await self._inner.show_card(thread, replace(state, taught=taught))


def _short(text: str) -> str:
    return text if len(text) <= CARD_TEXT else text[: CARD_TEXT - 1].rstrip() + "…"
