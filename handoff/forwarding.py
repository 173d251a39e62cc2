"""A base for decorators of the :class:`~handoff.ports.AgentDesk` port.

Several wrappers add one thing to the agents' desk (teaching offers, drafts, masking) and
pass everything else on unchanged. :class:`ForwardingDesk` forwards every method of the
port to ``inner``, so a wrapper overrides only what it adds, and a method added to the port
is forwarded in one place (``tests/handoff/test_forwarding.py`` fails until it is).
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff.model import (
    Agent,
    CardState,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
    Receipt,
)
from handoff.ports import AgentDesk


class ForwardingDesk:
    """Implements :class:`~handoff.ports.AgentDesk` by passing every call to ``inner``."""

    def __init__(self, *, inner: AgentDesk) -> None:
        self._inner = inner

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        return await self._inner.open_handoff(ticket)

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        await self._inner.follow_card(thread, ticket)

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        return await self._inner.relay_to_agents(thread, message, customer=customer)

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        return await self._inner.relay_many(thread, messages, customer=customer)

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        await self._inner.show_card(thread, state)

    async def post_note(self, thread: DeskThread, text: str) -> None:
        await self._inner.post_note(thread, text)

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        await self._inner.tell_agent(thread, agent, text)

    async def offer_retry(
        self, thread: DeskThread, text: str, button: str, message_id: int
    ) -> None:
        await self._inner.offer_retry(thread, text, button, message_id)

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        await self._inner.react(thread, message_ts, receipt)
