"""Delivery confirmed where the agent typed: each reply relayed to a customer gets a
reaction in the Slack thread when the customer's platform accepted it, another when it was
refused for good, and then a note in the thread naming the cause in words.

A receipt is a courtesy on top of the record (the message's delivery is stored first): one
that cannot be shown is logged, never raised, and never holds a delivery back.
"""

from __future__ import annotations

import logging

from handoff.agent_texts import AgentTexts, Line
from handoff.errors import DeliveryDeferred, DeliveryError, FailureCause
from handoff.model import Agent, DeskThread, Receipt
from handoff.ports import AgentDesk
from handoff.records import Handoff, StoredMessage
from handoff.threads import thread_of

logger = logging.getLogger(__name__)

CAUSE_LINES = {
    FailureCause.BLOCKED: Line.RECEIPT_BLOCKED,
    FailureCause.CHAT_GONE: Line.RECEIPT_CHAT_GONE,
    FailureCause.REFUSED: Line.RECEIPT_REFUSED,
    FailureCause.UNREACHABLE: Line.RECEIPT_UNREACHABLE,
}


class Receipts:
    def __init__(self, *, desk: AgentDesk, texts: AgentTexts) -> None:
        self._desk = desk
        self._texts = texts

    async def delivered(self, handoff: Handoff | None, message: StoredMessage) -> None:
        await self._react(handoff, message, Receipt.DELIVERED)

    async def failed(
        self, handoff: Handoff | None, agent: Agent, message: StoredMessage, error: DeliveryError
    ) -> None:
        """The failed reaction on the reply, and a note in the thread saying why."""
        await self._react(handoff, message, Receipt.FAILED)
        thread = _thread(handoff)
        if thread is None or handoff is None:
            return
        note = self._texts.line(
            CAUSE_LINES[error.cause],
            agent=agent.display_name,
            handoff=str(handoff.id),
            failure=str(error),
        )
        try:
            if error.cause.retryable:  # sending it again can work: offer it
                button = self._texts.line(Line.RETRY_BUTTON)
                await self._desk.offer_retry(thread, note, button, message.id)
            else:
                await self._desk.post_note(thread, note)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not note handoff %s's failed delivery: %s", handoff.id, exc)

    async def _react(
        self, handoff: Handoff | None, message: StoredMessage, receipt: Receipt
    ) -> None:
        thread = _thread(handoff)
        if thread is None or message.platform_message_id is None:
            return  # not written in a thread (a reply from the channel's command, a test)
        try:
            await self._desk.react(thread, message.platform_message_id, receipt)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not mark message %s %s: %s", message.id, receipt, exc)


def _thread(handoff: Handoff | None) -> DeskThread | None:
    return None if handoff is None else thread_of(handoff)
