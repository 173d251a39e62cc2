"""The ports the handoff core talks through; adapters implement them.

Adapters translate between a platform SDK and the neutral model in :mod:`handoff.model`.
Nothing here names a platform.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from handoff.model import (
    Agent,
    AgentAction,
    AgentReply,
    Attachment,
    ButtonAnswer,
    CardState,
    ConversationKey,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
    Inbound,
    Outbound,
    Receipt,
)

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

    async def edit_text(self, key: ConversationKey, message_id: str, text: str) -> None:
        """Replace the text of a message sent earlier; raises
        :class:`~handoff.errors.DeliveryError` if the platform refuses."""
        ...

    async def delete(self, key: ConversationKey, message_id: str) -> None:
        """Delete a message sent earlier; raises :class:`~handoff.errors.DeliveryError` if
        the platform refuses (Telegram: after 48 hours)."""
        ...

    async def download(self, attachment: Attachment) -> bytes:
        """The file's content, for showing it to agents; raises
        :class:`~handoff.errors.DeliveryError` if it cannot be fetched."""
        ...


class InboundHandler(Protocol):
    """What a channel adapter hands every customer event to (the conversation engine)."""

    async def handle(self, inbound: Inbound) -> None: ...


class AgentDesk(Protocol):
    """Where handed-off conversations go to people (the Slack adapter implements it).

    Implementations retry transient failures (rate limits, 5xx, connection errors) and
    raise :class:`~handoff.errors.DeliveryError` only when the platform refused for good.
    """

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        """Post the context card; return its thread (None: no agent tool is connected)."""
        ...

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        """Post what follows a new card in its thread (offers to reveal masked data, to
        teach the bot), once the thread is recorded: until then agents acting in it, and
        the SLA ladder, find no handoff there. Best effort: a post that fails is logged."""
        ...

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        """Show a customer's message in the thread; return the platform id of the post."""
        ...

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        """Show several of the customer's messages, in order, merged where the platform
        allows (a busy channel then takes one post instead of many); the platform ids of the
        first ones of ``messages`` shown, one per message, at least one. It may raise
        :class:`~handoff.errors.DeliveryDeferred`: nothing was shown, try again then."""
        ...

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        """Make the thread's parent message show ``state``."""
        ...

    async def post_note(self, thread: DeskThread, text: str) -> None:
        """A line from Tandem in the thread (e.g. "Alice claimed this conversation")."""
        ...

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        """A message only ``agent`` sees (e.g. "this conversation is already closed")."""
        ...

    async def offer_retry(
        self, thread: DeskThread, text: str, button: str, message_id: int
    ) -> None:
        """``text`` in the thread with a button labelled ``button`` that sends reply
        ``message_id`` again."""
        ...

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        """Mark the agent's message ``message_ts`` in the thread with ``receipt``."""
        ...


class AgentEventHandler(Protocol):
    """What the agents' adapter hands agents' actions to (the handoff relay)."""

    async def agent_reply(self, reply: AgentReply) -> None: ...

    async def agent_action(self, action: AgentAction) -> None: ...
