"""The ports the handoff core talks through; adapters implement them.

Adapters translate between a platform SDK and the neutral model in :mod:`handoff.model`.
Nothing here names a platform.
"""

from __future__ import annotations

from typing import Protocol

from handoff.model import ButtonAnswer, ConversationKey, Inbound, Outbound


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
