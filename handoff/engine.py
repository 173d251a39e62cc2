"""The conversation engine: every customer event is stored, understood, and then answered,
clarified or handed to a person.

Platform-neutral: it receives :class:`~handoff.model.Inbound` events from a channel adapter
and replies through the :class:`~handoff.ports.CustomerChannel` port. Events of one
conversation are handled one at a time, in order, under the live state's per-conversation
lock; different conversations run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from handoff.conversations import Conversations, for_agents
from handoff.desk import HandoffDesk, parse_rating
from handoff.engine_support import (
    ButtonIntent,
    analysis_fields,
    analysis_of,
    parse_button,
    placeholder_values,
)
from handoff.model import (
    ButtonAnswer,
    ChatType,
    ConversationKey,
    Inbound,
    LiveConversation,
    MessageKind,
    Mode,
    Outbound,
)
from handoff.policy import (
    RECENT_TEXTS,
    Action,
    Decision,
    FrustrationDetector,
    IntentGuess,
    PolicyConfig,
    Turn,
    decide,
)
from handoff.policy.meaning import Vectors
from handoff.records import Delivery, StoredMessage
from handoff.recovery import Recovery
from handoff.responses import Reply, Responses
from nlu.errors import NluUnavailable
from nlu.parsing import NluParser, ParseResult

logger = logging.getLogger(__name__)

TYPING_AFTER = 0.5  # seconds of NLU before the customer sees "typing..."
NLU_MAX_CHARS = 4096  # longer texts are stored whole; the NLU reads the first 4096 characters
_GROUP_NOTICE_TTL = 30 * 24 * 3600.0


class ConversationEngine:
    """Handles every customer event; implements :class:`~handoff.ports.InboundHandler`."""

    def __init__(
        self,
        *,
        conversations: Conversations,
        desk: HandoffDesk,
        nlu: NluParser,
        responses: Responses,
        policy: PolicyConfig,
        detector: FrustrationDetector,
    ) -> None:
        self._conversations = conversations
        self._repository = conversations.repository
        self._desk = desk
        self._nlu = nlu
        self._responses = responses
        self._policy = policy
        self._detector = detector
        self._recovery = Recovery(conversations=conversations, desk=desk)

    async def handle(self, inbound: Inbound) -> None:
        if inbound.chat_type is ChatType.GROUP:
            await self._group_chat(inbound)
            return
        # A LockTimeout (the conversation held far too long) leaves as a StateError: the
        # event is in the intake journal, which tries again until the lock is free.
        async with self._conversations.lock(inbound.key):
            await self._handle_locked(inbound)

    async def _handle_locked(self, inbound: Inbound) -> None:
        rating = parse_rating(inbound.button) if inbound.kind is MessageKind.BUTTON else None
        if rating is not None:  # belongs to a closed conversation, not the current one
            await self._desk.rate(inbound, *rating)
            return
        live = await self._conversations.current_or_new(inbound)
        pending = Delivery.PENDING if for_agents(live.mode, inbound) else None
        stored = await self._conversations.store_customer_event(
            live.conversation_id, inbound, delivery=pending
        )
        if stored is None:
            stored = await self._recovery.unfinished(live, inbound)
            if stored is None:
                logger.info("ignoring a repeated update %s in %s", inbound.message_id, inbound.key)
                if live.mode is not Mode.BOT:  # a try cut short may have left it unshown
                    await self._desk.flush_outbox(live.conversation_id, inbound.key)
                return
            logger.info("finishing update %s in %s", inbound.message_id, inbound.key)
        await self._dispatch(live, inbound, stored)

    async def restore_live_state(self) -> int:
        return await self._recovery.restore_live_state()

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        """Handling ``inbound`` failed for good: hand the conversation to a person (see
        :mod:`handoff.recovery`); False if even that failed."""
        return await self._recovery.give_up(inbound, error=error)

    # --- routing ------------------------------------------------------------------------

    async def _dispatch(
        self, live: LiveConversation, inbound: Inbound, stored: StoredMessage
    ) -> None:
        if inbound.kind is MessageKind.BUTTON:
            await self._button(live, inbound, stored)
        elif live.mode is not Mode.BOT:
            await self._while_with_people(live, inbound, stored)
        elif inbound.edited:
            await self._say(live, inbound, self._responses.system("edited_message"))
        elif inbound.kind is MessageKind.COMMAND:
            await self._command(live, inbound, stored)
        elif inbound.kind is MessageKind.TEXT:
            await self._text(live, inbound, stored)
        else:
            await self._say(live, inbound, self._responses.system("unsupported_media"))

    async def _command(
        self, live: LiveConversation, inbound: Inbound, stored: StoredMessage
    ) -> None:
        values = placeholder_values(inbound, ())
        match inbound.command:
            case "start" | "help":
                await self._say(live, inbound, self._responses.system(inbound.command, values))
            case "human":
                await self._person_requested(live, inbound, stored)
            case _:
                values = {**values, "command": inbound.command or ""}
                await self._say(live, inbound, self._responses.system("unknown_command", values))

    async def _button(
        self, live: LiveConversation, inbound: Inbound, stored: StoredMessage
    ) -> None:
        action = parse_button(inbound.button)
        if action == "human" and live.mode is Mode.BOT:
            await self._answer_press(inbound)
            await self._person_requested(live, inbound, stored)
        elif action == "human":
            await self._answer_press(inbound, self._responses.system("already_waiting").text)
        elif isinstance(action, ButtonIntent) and live.mode is Mode.BOT:
            await self._answer_press(inbound)
            ranking = (IntentGuess(name=action.intent, confidence=1.0),)
            await self._understood(live, inbound, stored, text="", ranking=ranking)
        else:  # a choice while waiting (handoff.waiting), unknown data, or a stale button
            await self._desk.other_button(live, inbound)

    async def _while_with_people(
        self, live: LiveConversation, inbound: Inbound, stored: StoredMessage
    ) -> None:
        """A person has (or is about to have) the conversation: the bot keeps quiet and the
        customer's messages go to the agents' thread."""
        if not for_agents(live.mode, inbound):  # /human again
            await self._say(live, inbound, self._responses.system("already_waiting"))
            return
        await self._desk.relay_from_customer(live, inbound.key, inbound, stored)

    async def _group_chat(self, inbound: Inbound) -> None:
        # Bystanders' messages are not support conversations: neither stored nor answered.
        # The notice is said once per group (per process without Redis).
        state = self._conversations.state
        if await state.first_time(f"group-notice:{inbound.key}", ttl=_GROUP_NOTICE_TTL):
            reply = self._responses.system("group_chat")
            await self._conversations.deliver(Outbound(key=inbound.key, text=reply.text))

    # --- a customer's text: understand, decide, act -------------------------------------

    async def _text(self, live: LiveConversation, inbound: Inbound, stored: StoredMessage) -> None:
        text = (inbound.text or "").strip()
        if not text:
            await self._say(live, inbound, self._responses.system("empty_message"))
            return
        # "typing..." only when the answer is slow to come: a chat action per message cost
        # as much CPU as the answer itself (tandem bench load), for a reply in milliseconds.
        typing = asyncio.create_task(self._typing_after(inbound.key, TYPING_AFTER))
        parse: ParseResult | None
        try:
            parse = await self._nlu.parse(text[:NLU_MAX_CHARS])
        except NluUnavailable as exc:
            logger.warning("NLU unavailable for %s: %s", inbound.key, exc)
            parse = None
        finally:
            typing.cancel()
        ranking = (
            None
            if parse is None
            else tuple(IntentGuess(name=s.name, confidence=s.confidence) for s in parse.ranking)
        )
        await self._understood(live, inbound, stored, text=text, ranking=ranking, parse=parse)

    async def _typing_after(self, key: ConversationKey, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self._conversations.channel.show_typing(key)

    async def _understood(
        self,
        live: LiveConversation,
        inbound: Inbound,
        stored: StoredMessage,
        *,
        text: str,
        ranking: tuple[IntentGuess, ...] | None,
        parse: ParseResult | None = None,
    ) -> None:
        meaning = await self._meaning(text)
        turn = Turn(
            text=text,
            ranking=ranking,
            failed_turns=live.failed_turns,
            last_answered_intent=live.last_answered_intent,
            previous_texts=live.recent_texts,
            example_similarity=parse.similarity if parse else None,
            meaning=meaning,
        )
        decision = decide(turn, config=self._policy, detector=self._detector)
        analysis = analysis_of(ranking, parse, decision)
        # DEBUG: at INFO, this line per message cost more CPU than the decision itself.
        logger.debug(
            "%s: %s (%s)",
            inbound.key,
            decision.action.value,
            ", ".join(code.value for code in decision.codes) or "understood",
        )
        if text:
            live = replace(live, recent_texts=(*live.recent_texts, text)[-RECENT_TEXTS:])
        if decision.action is Action.HANDOFF:
            await self._repository.record_analysis(stored.id, **analysis_fields(analysis))
            await self._desk.request(live, inbound.key, inbound.customer, decision)
            return
        reply = None
        if decision.action is Action.ANSWER and decision.intent is not None:
            entities = parse.entities if parse else ()
            values = placeholder_values(inbound, entities)
            reply = self._responses.for_intent(decision.intent, values)
            if reply is None:
                logger.error("responses.yml has no answer for intent %r", decision.intent)
        if reply is not None:
            live = replace(live, failed_turns=0, last_answered_intent=decision.intent)
        else:
            reply = self._responses.system("clarify")
            live = replace(live, failed_turns=decision.failed_turns, last_answered_intent=None)
        await self._conversations.answer(
            inbound.key, live, reply, message=stored, analysis=analysis
        )

    async def _meaning(self, text: str) -> Vectors | None:
        """The frustration model's sentence vector: the one the NLU's reading left with the
        encoder, else read in a worker thread (CPU work; a masked text is one it did not read)."""
        if text and (at_hand := self._detector.meaning_at_hand(text)) is not None:
            return at_hand
        return await asyncio.to_thread(self._detector.read_meaning, text) if text else None

    async def _person_requested(
        self, live: LiveConversation, inbound: Inbound, stored: StoredMessage
    ) -> None:
        # No message to judge: the press (or /human) is the request itself.
        turn = Turn(
            text="",
            ranking=(),
            person_requested=True,
            failed_turns=live.failed_turns,
            last_answered_intent=live.last_answered_intent,
        )
        decision = decide(turn, config=self._policy, detector=self._detector)
        analysis = analysis_fields(analysis_of(None, None, decision))
        await self._repository.record_analysis(stored.id, **analysis)
        await self._desk.request(live, inbound.key, inbound.customer, decision)

    async def _say(
        self,
        live: LiveConversation,
        inbound: Inbound,
        reply: Reply,
        *,
        decision: Decision | None = None,
    ) -> None:
        record = decision.to_record() if decision else None
        await self._conversations.say(live.conversation_id, inbound.key, reply, decision=record)

    async def _answer_press(self, inbound: Inbound, text: str | None = None) -> None:
        await self._conversations.channel.answer_button(
            ButtonAnswer(press_id=inbound.message_id, text=text)
        )
