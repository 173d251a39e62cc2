"""Retry: an agent's reply that could not be delivered for a reason that may pass (the
customer blocked the bot and may unblock it, Telegram could not be reached) is offered
again with a button under the note that says why; pressing it sends the reply again, in
its place in the conversation's order, and the reaction on it shows how it went.
"""

from __future__ import annotations

import logging

from handoff.agent_texts import AgentTexts, Line
from handoff.conversations import Conversations
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import AgentAction, Author, ConversationKey
from handoff.outbox import Outbox
from handoff.ports import AgentDesk
from handoff.records import Delivery

logger = logging.getLogger(__name__)


class Retries:
    def __init__(
        self,
        *,
        conversations: Conversations,
        outbox: Outbox,
        desk: AgentDesk,
        texts: AgentTexts,
    ) -> None:
        self._store = conversations.repository
        self._outbox = outbox
        self._desk = desk
        self._texts = texts

    async def retry(self, handoff_id: int, key: ConversationKey, action: AgentAction) -> None:
        """Send the failed reply ``action.message_id`` again (the caller holds the
        conversation's lock); anything else is refused, to the pressing agent only."""
        handoff = await self._store.get_handoff(handoff_id)
        message = None
        if action.message_id is not None and handoff is not None:
            message = await self._store.get_message(action.message_id)
        if (
            message is None
            or handoff is None
            or message.conversation_id != handoff.conversation_id
            or message.author is not Author.AGENT
            or message.delivery is not Delivery.FAILED
        ):
            await self._say(action, handoff_id, Line.NOTHING_TO_RETRY, privately=True)
            return
        await self._store.mark_delivery(
            message.id, Delivery.PENDING, detail={"retried_by": action.agent.user_id}
        )
        await self._say(action, handoff_id, Line.NOTE_RETRIED, privately=False)
        await self._outbox.flush(message.conversation_id, key)

    async def _say(
        self, action: AgentAction, handoff_id: int, line: Line, *, privately: bool
    ) -> None:
        text = self._texts.line(line, agent=action.agent.display_name, handoff=str(handoff_id))
        try:
            if privately:
                await self._desk.tell_agent(action.thread, action.agent, text)
            else:
                await self._desk.post_note(action.thread, text)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not answer a retry in handoff %s: %s", handoff_id, exc)
