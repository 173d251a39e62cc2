"""Recoverable replies: an agent who edits a reply in the thread edits it in the customer's
chat; one who deletes it deletes it there. The thread notes what happened; the record keeps
the original text and lists every change in the message's ``revisions``. From the card, an
agent can also retract the bot's last automated answer (deleted in the customer's chat,
its delivery ``retracted`` in the record) and follow up in person.
"""

from __future__ import annotations

import logging
from typing import Any

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import Clock, utc_now
from handoff.conversations import Conversations
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import AgentAction, AgentReply, Author, ConversationKey
from handoff.ports import AgentDesk
from handoff.records import Delivery, Platform, StoredMessage

logger = logging.getLogger(__name__)

REVISIONS = "revisions"  # in a message's record: its edits and deletion, oldest first
RETRACTED = "retracted"  # in a bot answer's record: who retracted it, and when
ANSWERED = "answer"  # the policy's action of a turn the bot answered
LOOK_BACK = 50  # messages searched for the bot's last answer


class Revisions:
    def __init__(
        self,
        *,
        conversations: Conversations,
        desk: AgentDesk,
        texts: AgentTexts,
        clock: Clock = utc_now,
    ) -> None:
        self._conversations = conversations
        self._store = conversations.repository
        self._desk = desk
        self._texts = texts
        self._clock = clock

    async def revise(self, handoff_id: int, key: ConversationKey, change: AgentReply) -> None:
        """Apply the agent's edit or deletion of an earlier reply (the caller holds the
        conversation's lock)."""
        assert change.revises is not None
        original = await self._store.find_message(
            platform=Platform.SLACK.value, chat_id=change.thread.channel, message_id=change.revises
        )
        if original is None or original.author is not Author.AGENT:
            return  # not a reply Tandem relayed: a note, or one written before the handoff
        done = list((original.decision or {}).get(REVISIONS) or [])
        revision = {"text": None if change.deleted else change.text, "deleted": change.deleted}
        if done and {k: done[-1].get(k) for k in revision} == revision:
            return  # the same change again (a replayed event): done already
        sent_id = (original.decision or {}).get("sent_id")
        if original.delivery is not Delivery.DELIVERED or not sent_id:
            await self._note(change, handoff_id, Line.NOTE_REVISION_UNDELIVERED)
            return
        try:
            await self._apply(key, str(sent_id), change)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not revise message %s in %s: %s", original.id, key, exc)
            await self._note(change, handoff_id, Line.NOTE_REVISION_FAILED, failure=str(exc))
            return
        await self._record(original, done, revision, change)
        line = Line.NOTE_REPLY_DELETED if change.deleted else Line.NOTE_REPLY_EDITED
        await self._note(change, handoff_id, line)

    async def retract(self, handoff_id: int, key: ConversationKey, action: AgentAction) -> None:
        """Delete the bot's last answer in the conversation in the customer's chat (the
        caller holds the conversation's lock)."""
        handoff = await self._store.get_handoff(handoff_id)
        answer = None if handoff is None else await self._last_answer(handoff.conversation_id)
        if answer is None or answer.platform_message_id is None:
            text = self._line(Line.NOTHING_TO_RETRACT, action.agent.display_name, handoff_id)
            await self._desk.tell_agent(action.thread, action.agent, text)
            return
        try:
            await self._conversations.channel.delete(key, answer.platform_message_id)
        except (DeliveryError, DeliveryDeferred) as exc:
            await self._note(action, handoff_id, Line.NOTE_RETRACT_FAILED, failure=str(exc))
            return
        # The customer no longer sees it: a state of its own, so that the figures and the
        # export do not count it delivered; the detail says who retracted it, and when.
        retracted = {"at": self._clock().isoformat(), "by": action.agent.user_id}
        await self._store.mark_delivery(
            answer.id, Delivery.RETRACTED, detail={RETRACTED: retracted}
        )
        await self._note(action, handoff_id, Line.NOTE_RETRACTED)

    async def _last_answer(self, conversation_id: int) -> StoredMessage | None:
        recent = await self._store.recent_messages(conversation_id, limit=LOOK_BACK)
        answers = [
            m
            for m in recent
            if m.author is Author.BOT
            and (m.decision or {}).get("action") == ANSWERED
            and m.delivery is not Delivery.RETRACTED
            and RETRACTED not in (m.decision or {})  # retracted before it was a state
        ]
        return answers[-1] if answers else None

    async def _apply(self, key: ConversationKey, sent_id: str, change: AgentReply) -> None:
        channel = self._conversations.channel
        if change.deleted:
            await channel.delete(key, sent_id)
        else:
            await channel.edit_text(key, sent_id, change.text)

    async def _record(
        self,
        original: StoredMessage,
        done: list[Any],
        revision: dict[str, Any],
        change: AgentReply,
    ) -> None:
        entry = {**revision, "at": self._clock().isoformat(), "by": change.agent.user_id}
        await self._store.mark_delivery(
            original.id, Delivery.DELIVERED, detail={REVISIONS: [*done, entry]}
        )

    def _line(self, line: Line, agent: str, handoff_id: int, **values: str) -> str:
        return self._texts.line(line, agent=agent, handoff=str(handoff_id), **values)

    async def _note(
        self, change: AgentReply | AgentAction, handoff_id: int, line: Line, **values: str
    ) -> None:
        text = self._line(line, change.agent.display_name, handoff_id, **values)
        try:
            await self._desk.post_note(change.thread, text)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not note a revision in handoff %s: %s", handoff_id, exc)
