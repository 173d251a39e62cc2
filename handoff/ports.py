"""The ports the handoff core talks through; adapters implement them.

Adapters translate between a platform SDK and the neutral model in :mod:`handoff.model`.
Nothing here names a platform.
"""

from __future__ import annotations

import logging
from typing import Protocol

from handoff.model import ButtonAnswer, ConversationKey, HandoffTicket, Inbound, Outbound

logger = logging.getLogger(__name__)


class CustomerChannel(Protocol):
    """How the engine reaches customers (the Telegram adapter implements it).

    Implementations respect the platform's rate limits by queueing, retry on "too many
    requests" and transient failures, and never drop a message: ``send`` returns only once
    the platform accepted the message, or raises :class:`~handoff.errors.DeliveryError`
    when it refused it for good (for example, the customer blocked the bot).
    """

    async def send(self, message: Outbound) -> str:
        """Deliver ``message``; return the platform's id of the sent message."""
        ...

    async def answer_button(self, answer: ButtonAnswer) -> None:
        """Acknowledge a button press (stops the client's spinner)."""
        ...

    async def show_typing(self, key: ConversationKey) -> None:
        """Show "typing..." while the bot works on an answer; failures are ignored."""
        ...


class InboundHandler(Protocol):
    """What a channel adapter hands every customer event to (the conversation engine)."""

    async def handle(self, inbound: Inbound) -> None: ...


class AgentDesk(Protocol):
    """Where handed-off conversations go to people (the Slack adapter implements it)."""

    async def open_handoff(self, ticket: HandoffTicket) -> None:
        """Show agents a new handoff (the Slack adapter posts the context card)."""
        ...


class NoAgentDesk:
    """No agent tool connected: handoffs wait in the database until one is."""

    async def open_handoff(self, ticket: HandoffTicket) -> None:
        logger.info(
            "handoff %s (%s) is waiting for a person; no agent desk is connected",
            ticket.handoff_id,
            ticket.reason,
        )
