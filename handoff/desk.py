"""Handoffs, from the request for a person to the end: the agents' thread, relay both ways,
claim / transfer / release, return to the bot, close and rating.

Platform-neutral: agents' events arrive as :class:`AgentReply` / :class:`AgentAction` from
the agents' adapter (Slack); the card, the thread and notes go out through the
:class:`~handoff.ports.AgentDesk` port. Every state change is stored with who and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.engine_support import ticket_detail, ticket_from_handoff
from handoff.errors import Conflict, DeliveryError
from handoff.model import (
    Agent,
    AgentAction,
    AgentCommand,
    AgentReply,
    Author,
    Button,
    ButtonAnswer,
    CardStatus,
    ConversationKey,
    Customer,
    CustomerRelay,
    DeskThread,
    Inbound,
    LiveConversation,
    MessageKind,
    Mode,
)
from handoff.outbox import Outbox, SentMemo
from handoff.policy import Decision
from handoff.ports import AgentDesk
from handoff.records import (
    Delivery,
    Handoff,
    HandoffEventKind,
    HandoffOutcome,
    NewMessage,
    Platform,
    StoredMessage,
)
from handoff.responses import Reply, Responses
from handoff.threads import Threads, status_of
from handoff.threads import thread_of as handoff_thread

logger = logging.getLogger(__name__)

RATING_PREFIX = "rate:"
# What agents get as files: what customers send to show a problem. Voice, video and the
# like are described instead.
SHOWN_FILES = frozenset({MessageKind.PHOTO, MessageKind.DOCUMENT})
_PATIENCE = (0.05, 0.1, 0.2, 0.4, 0.8)  # seconds between looks; 1.55 s in all
T = TypeVar("T")


def rating_buttons(conversation_id: int) -> tuple[tuple[Button, ...], ...]:
    """1-5 stars; the data names the conversation, which is closed by the time they are pressed."""
    return (
        tuple(
            Button(label="★" * n, data=f"{RATING_PREFIX}{conversation_id}:{n}") for n in range(1, 6)
        ),
    )


def parse_rating(data: str | None) -> tuple[int, int] | None:
    """(conversation id, stars) from a rating button's data, or None."""
    if not data or not data.startswith(RATING_PREFIX):
        return None
    try:
        conversation, stars = (int(part) for part in data.removeprefix(RATING_PREFIX).split(":"))
    except ValueError:
        return None
    return (conversation, stars) if 1 <= stars <= 5 else None


class HandoffDesk:
    """Implements :class:`~handoff.ports.AgentEventHandler`; the engine calls the customer side."""

    def __init__(
        self,
        *,
        conversations: Conversations,
        desk: AgentDesk,
        responses: Responses,
        transcript_lines: int = 12,
        wake: Callable[[float], None] = lambda seconds: None,
        memo: SentMemo | None = None,
    ) -> None:
        self._conversations = conversations
        self._repository = conversations.repository
        self._desk = desk
        self._responses = responses
        self._transcript_lines = transcript_lines
        self._threads = Threads(
            conversations=conversations, desk=desk, transcript_lines=transcript_lines
        )
        self._outbox = Outbox(
            conversations=conversations,
            threads=self._threads,
            desk=desk,
            responses=responses,
            wake=wake,
            memo=memo,
        )

    # --- the customer side (the engine holds the conversation's lock) --------------------

    async def request(
        self, live: LiveConversation, key: ConversationKey, customer: Customer, decision: Decision
    ) -> LiveConversation:
        """Hand the conversation to a person: record it, tell the customer, post the card."""
        reason = decision.handoff_reason.value if decision.handoff_reason else "unspecified"
        transcript = await self._repository.recent_messages(
            live.conversation_id, limit=self._transcript_lines
        )
        # An earlier try may have opened it before an outage cut it short: finish that one.
        handoff = await self._repository.open_handoff_for(live.conversation_id)
        if handoff is None:
            handoff = await self._repository.create_handoff(
                conversation_id=live.conversation_id,
                reason=reason,
                reason_detail=ticket_detail(decision, transcript),
                at=utc_now(),
            )
            await self._event(handoff, HandoffEventKind.REQUESTED, None, detail={"reason": reason})
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
        if handoff_thread(handoff) is not None:
            return live  # the earlier try posted the card
        ticket = ticket_from_handoff(
            handoff=handoff, key=key, customer=customer, transcript=transcript
        )
        await self._threads.open(handoff, ticket)
        return live

    async def relay_from_customer(
        self, live: LiveConversation, key: ConversationKey, inbound: Inbound, stored: StoredMessage
    ) -> None:
        """A customer's message while a person has the conversation: show it in the thread.

        ``stored`` is its record, stored as pending delivery: marked delivered once agents
        have it; otherwise :meth:`redeliver_pending` shows it later.
        """
        handoff = await self._open_handoff(live)
        if handoff is None:
            return
        relay = CustomerRelay(
            kind=inbound.kind,
            text=inbound.text,
            attachment=inbound.attachment,
            edited=inbound.edited,
            content=await self._file_of(inbound, handoff),
        )
        await self._outbox.flush(live.conversation_id, key, fresh=(stored.id, relay))

    async def _file_of(self, inbound: Inbound, handoff: Handoff) -> bytes | None:
        """The photo's or document's bytes, for agents to see; None when there are none to
        show or they could not be fetched (agents then see a note of what it was; the message
        itself is stored already)."""
        if inbound.kind not in SHOWN_FILES or inbound.attachment is None:
            return None
        try:
            return await self._conversations.channel.download(inbound.attachment)
        except DeliveryError as exc:
            logger.warning(
                "could not fetch a customer's file for agents (handoff %s): %s", handoff.id, exc
            )
            return None

    async def rate(self, inbound: Inbound, conversation_id: int, stars: int) -> None:
        """The customer pressed a rating button of a closed conversation."""
        conversation = await self._repository.get_conversation(conversation_id)
        if conversation is None or conversation.key != inbound.key:
            await self._answer_press(inbound, self._responses.system("stale_button").text)
            return
        await self._conversations.store_customer_event(conversation_id, inbound)
        if conversation.rating is not None:
            await self._answer_press(inbound, self._responses.system("rating_already").text)
            return
        await self._repository.rate_conversation(conversation_id, rating=stars, at=utc_now())
        await self._answer_press(inbound, None)
        await self._conversations.say(
            conversation_id, inbound.key, self._responses.system("rating_thanks")
        )
        handoff = await self._repository.latest_handoff_for(conversation_id)
        if handoff is not None:
            await self._event(handoff, HandoffEventKind.RATED, None, detail={"rating": stars})
            await self._threads.refresh_card(handoff, inbound.key, rating=stars)

    # --- the agent side -------------------------------------------------------------------

    async def agent_reply(self, reply: AgentReply) -> None:
        found = await self._locate(reply.thread)
        if found is None:
            return  # a thread that is not a handoff: not ours to relay
        handoff, key = found
        async with self._conversations.lock(key):
            handoff = await self._fresh(handoff)
            stored = await self._repository.add_message(
                NewMessage(
                    conversation_id=handoff.conversation_id,
                    author=Author.AGENT,
                    author_id=reply.agent.user_id,
                    author_name=reply.agent.display_name,
                    platform=Platform.SLACK,
                    platform_chat_id=reply.thread.channel,
                    platform_message_id=reply.message_ts,
                    text=reply.text,
                    created_at=utc_now(),
                    # Stored before it is sent: if sending never happens, it is redelivered.
                    delivery=Delivery.PENDING if handoff.is_open else None,
                )
            )
            if stored is None:
                logger.info("repeated agent message %s: only what is pending", reply.message_ts)
                # The first try may have been cut short (an outage) before it was sent.
                await self._outbox.flush(handoff.conversation_id, key)
                return
            if not handoff.is_open:
                await self._desk.tell_agent(
                    reply.thread,
                    reply.agent,
                    "This conversation is no longer with a person; your message was not sent.",
                )
                return
            if handoff.agent_id is None:  # the first agent to reply owns the conversation
                handoff = await self._claim(handoff, key, reply.agent)
            # Behind any earlier reply still waiting: the customer reads them in order.
            await self._outbox.flush(handoff.conversation_id, key)

    async def flush_outbox(self, conversation_id: int, key: ConversationKey) -> None:
        """Send what the conversation still has pending (the caller holds its lock)."""
        await self._outbox.flush(conversation_id, key)

    async def redeliver_pending(self, *, older_than: timedelta) -> int:
        """What a crash or an outage left pending, delivered now in order (see
        :class:`~handoff.outbox.Outbox`); returns how many were delivered."""
        return await self._outbox.redeliver_pending(older_than=older_than)

    async def agent_action(self, action: AgentAction) -> None:
        found = await self._locate(action.thread)
        if found is None:
            await self._desk.tell_agent(
                action.thread, action.agent, "That thread is not a Tandem handoff."
            )
            return
        handoff, key = found
        async with self._conversations.lock(key):
            handoff = await self._fresh(handoff)
            if action.command is AgentCommand.STATUS:
                await self._desk.tell_agent(action.thread, action.agent, _status_line(handoff))
                return
            if not handoff.is_open:
                await self._desk.tell_agent(
                    action.thread, action.agent, f"Nothing to do: {_status_line(handoff)}"
                )
                return
            match action.command:
                case AgentCommand.CLAIM:
                    await self._claim(handoff, key, action.agent, explicit=True)
                case AgentCommand.RELEASE:
                    await self._release(handoff, key, action.agent)
                case AgentCommand.RETURN:
                    await self._return_to_bot(handoff, key, action.agent)
                case AgentCommand.CLOSE:
                    await self._close(handoff, key, action.agent)

    # --- state changes ----------------------------------------------------------------------

    async def _claim(
        self, handoff: Handoff, key: ConversationKey, agent: Agent, *, explicit: bool = False
    ) -> Handoff:
        if handoff.agent_id == agent.user_id:
            if explicit:
                await self._threads.tell(handoff, agent, "You already own this conversation.")
            return handoff
        previous = handoff.agent_name
        try:
            if handoff.agent_id is None:
                handoff = await self._repository.claim_handoff(
                    handoff.id, agent_id=agent.user_id, agent_name=agent.display_name, at=utc_now()
                )
                kind, note = (
                    HandoffEventKind.CLAIMED,
                    f"{agent.display_name} claimed this conversation.",
                )
            elif explicit:  # Claim pressed by another agent: ownership moves
                handoff = await self._repository.transfer_handoff(
                    handoff.id, agent_id=agent.user_id, agent_name=agent.display_name, at=utc_now()
                )
                kind, note = (
                    HandoffEventKind.TRANSFERRED,
                    f"{agent.display_name} took this conversation over from {previous}.",
                )
            else:
                return handoff
        except Conflict as exc:
            await self._threads.tell(handoff, agent, f"Could not claim: {exc}")
            return handoff
        await self._event(handoff, kind, agent, detail={"from": previous} if previous else None)
        await self._set_mode(key, Mode.HUMAN)
        await self._threads.note(handoff, note)
        await self._threads.refresh_card(handoff, key, changed_by=agent)
        return handoff

    async def _release(self, handoff: Handoff, key: ConversationKey, agent: Agent) -> None:
        if handoff.agent_id is None:
            await self._threads.tell(handoff, agent, "Nobody owns this conversation yet.")
            return
        handoff = await self._repository.release_handoff(handoff.id)
        await self._event(handoff, HandoffEventKind.RELEASED, agent)
        await self._set_mode(key, Mode.WAITING)
        await self._threads.note(
            handoff, f"{agent.display_name} released this conversation; it waits for an agent."
        )
        await self._threads.refresh_card(handoff, key, changed_by=agent)

    async def _return_to_bot(self, handoff: Handoff, key: ConversationKey, agent: Agent) -> None:
        handoff = await self._repository.finish_handoff(
            handoff.id, outcome=HandoffOutcome.RETURNED, at=utc_now()
        )
        await self._event(handoff, HandoffEventKind.RETURNED, agent)
        live = await self._conversations.current(key)
        if live is not None:
            # Back to the bot with a clean slate: the failed-turn count starts again.
            live = replace(
                live, mode=Mode.BOT, failed_turns=0, last_answered_intent=None, handoff_id=None
            )
            await self._conversations.save(key, live)
            await self._conversations.say(
                live.conversation_id, key, self._responses.system("returned_to_bot")
            )
        await self._threads.note(
            handoff, f"{agent.display_name} returned this conversation to the bot."
        )
        await self._threads.refresh_card(handoff, key, changed_by=agent)

    async def _close(self, handoff: Handoff, key: ConversationKey, agent: Agent) -> None:
        handoff = await self._repository.finish_handoff(
            handoff.id, outcome=HandoffOutcome.CLOSED, at=utc_now()
        )
        await self._event(handoff, HandoffEventKind.CLOSED, agent)
        live = await self._conversations.current(key)
        if live is not None:
            await self._conversations.save(key, replace(live, mode=Mode.CLOSED, handoff_id=None))
        closed = self._responses.system("closed")
        await self._conversations.say(
            handoff.conversation_id,
            key,
            Reply(text=closed.text, buttons=rating_buttons(handoff.conversation_id)),
        )
        await self._threads.note(handoff, f"{agent.display_name} closed this conversation.")
        await self._threads.refresh_card(handoff, key, changed_by=agent)

    async def _set_mode(self, key: ConversationKey, mode: Mode) -> None:
        live = await self._conversations.current(key)
        if live is not None and live.mode is not mode:
            await self._conversations.save(key, replace(live, mode=mode))

    # --- small helpers ------------------------------------------------------------------------

    async def thread_of(self, handoff_id: int) -> DeskThread | None:
        """The thread of handoff number ``handoff_id`` (agents name it so in commands)."""

        async def lookup() -> DeskThread | None:
            handoff = await self._repository.get_handoff(handoff_id)
            return None if handoff is None else handoff_thread(handoff)

        return await _patiently(lookup)

    async def _locate(self, thread: DeskThread) -> tuple[Handoff, ConversationKey] | None:
        handoff = await _patiently(
            lambda: self._repository.find_handoff_by_thread(
                agent_channel=thread.channel, thread_ts=thread.thread_ts
            )
        )
        if handoff is None:
            return None
        conversation = await self._repository.get_conversation(handoff.conversation_id)
        if conversation is None:
            return None
        return handoff, conversation.key

    async def _fresh(self, handoff: Handoff) -> Handoff:
        """Re-read under the lock: another worker may have changed it meanwhile."""
        return await self._repository.get_handoff(handoff.id) or handoff

    async def _open_handoff(self, live: LiveConversation) -> Handoff | None:
        if live.handoff_id is not None:
            handoff = await self._repository.get_handoff(live.handoff_id)
            if handoff is not None and handoff.is_open:
                return handoff
        return await self._repository.open_handoff_for(live.conversation_id)

    async def _event(
        self,
        handoff: Handoff,
        kind: HandoffEventKind,
        agent: Agent | None,
        *,
        detail: dict[str, object] | None = None,
    ) -> None:
        await self._repository.add_handoff_event(
            handoff.id,
            kind=kind,
            actor_id=agent.user_id if agent else None,
            actor_name=agent.display_name if agent else None,
            detail=detail,
            at=utc_now(),
        )

    async def _answer_press(self, inbound: Inbound, text: str | None) -> None:
        await self._conversations.channel.answer_button(
            ButtonAnswer(press_id=inbound.message_id, text=text)
        )


async def _patiently(lookup: Callable[[], Awaitable[T | None]]) -> T | None:
    """Look again for a moment before taking "not found" for an answer.

    A card is posted before its thread is recorded, so an agent (or a worker) quick enough
    can name the thread in between. Agents' commands must be answered within 3 s.
    """
    found = await lookup()
    for delay in _PATIENCE:
        if found is not None:
            break
        await asyncio.sleep(delay)
        found = await lookup()
    return found


def _status_line(handoff: Handoff) -> str:
    status = status_of(handoff)
    who = handoff.agent_name or "nobody"
    return {
        CardStatus.WAITING: f"Handoff #{handoff.id} is waiting for an agent.",
        CardStatus.CLAIMED: f"Handoff #{handoff.id} is owned by {who}.",
        CardStatus.RETURNED: f"Handoff #{handoff.id} was returned to the bot.",
        CardStatus.CLOSED: f"Handoff #{handoff.id} is closed.",
    }[status]
