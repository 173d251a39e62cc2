"""Agents see masked text: a decorator of the :class:`~handoff.ports.AgentDesk` port.

The card (transcript, what the NLU saw) and every customer message relayed to the thread
are masked before they reach the desk's adapter; Tandem's own notes and lines to one agent
pass as they are (a reveal is one of those). When something was masked, the thread gets a
short line saying so, with a way for the owning agent to reveal it (:class:`RevealOffers`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.forwarding import ForwardingDesk
from handoff.model import (
    CardState,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
)
from handoff.ports import AgentDesk
from handoff.privacy.masking import Masker

logger = logging.getLogger(__name__)

OFFERS_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class RevealOffer:
    """A line in the thread saying what was masked, with a button for the owner.
    ``target`` tells the reveal what to show: ``message:ID`` or ``card:HANDOFF``."""

    text: str
    button: str
    target: str


class RevealOffers(Protocol):
    """Posts reveal offers in a thread (the Slack adapter implements it)."""

    async def offer_reveal(self, thread: DeskThread, offer: RevealOffer) -> None: ...


class MaskingDesk(ForwardingDesk):
    """Implements :class:`~handoff.ports.AgentDesk` around ``inner``, masking what it shows."""

    def __init__(
        self, *, inner: AgentDesk, masker: Masker, texts: AgentTexts, offers: RevealOffers
    ) -> None:
        super().__init__(inner=inner)
        self._masker = masker
        self._texts = texts
        self._offers = offers
        # Targets offered lately: a message relayed again (a redelivery) is offered once.
        self._offered: OrderedDict[tuple[DeskThread, str], None] = OrderedDict()

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        return await self._inner.open_handoff(self._ticket(ticket)[0])

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        masked, kinds = self._ticket(ticket)
        await self._inner.follow_card(thread, masked)
        if kinds:
            text = self._texts.line(
                Line.PRIVACY_MASKED_CARD, handoff=str(ticket.handoff_id), kinds=", ".join(kinds)
            )
            await self._offer(thread, text, f"card:{ticket.handoff_id}")

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        await self._inner.show_card(thread, replace(state, ticket=self._ticket(state.ticket)[0]))

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        if message.text is None:
            return await self._inner.relay_to_agents(thread, message, customer=customer)
        masked = self._masker.mask(message.text)
        if not masked.changed:
            return await self._inner.relay_to_agents(thread, message, customer=customer)
        posted = await self._inner.relay_to_agents(
            thread, replace(message, text=masked.text), customer=customer
        )
        if message.outbox_id is not None:
            text = self._texts.line(Line.PRIVACY_MASKED_MESSAGE, kinds=", ".join(masked.kinds))
            await self._offer(thread, text, f"message:{message.outbox_id}")
        return posted

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        masked = [self._masker.mask(m.text) if m.text is not None else None for m in messages]
        shown = [
            replace(m, text=found.text) if found is not None and found.changed else m
            for m, found in zip(messages, masked, strict=True)
        ]
        posted = await self._inner.relay_many(thread, shown, customer=customer)
        for message, found in zip(messages[: len(posted)], masked, strict=False):
            if found is not None and found.changed and message.outbox_id is not None:
                text = self._texts.line(Line.PRIVACY_MASKED_MESSAGE, kinds=", ".join(found.kinds))
                await self._offer(thread, text, f"message:{message.outbox_id}")
        return posted

    def _ticket(self, ticket: HandoffTicket) -> tuple[HandoffTicket, tuple[str, ...]]:
        """The ticket with every text masked, and the kinds that were."""
        kinds: dict[str, None] = {}

        def mask(text: str) -> str:
            masked = self._masker.mask(text)
            kinds.update(dict.fromkeys(masked.kinds))
            return masked.text

        masked = replace(
            ticket,
            failed_turns=tuple(replace(s, text=mask(s.text)) for s in ticket.failed_turns),
            transcript=tuple(replace(line, text=mask(line.text)) for line in ticket.transcript),
        )
        return masked, tuple(kinds)

    async def _offer(self, thread: DeskThread, text: str, target: str) -> None:
        """Best effort: the masked message itself is what matters, and it is delivered."""
        if (thread, target) in self._offered:
            return
        self._offered[(thread, target)] = None
        if len(self._offered) > OFFERS_REMEMBERED:
            self._offered.popitem(last=False)
        button = self._texts.line(Line.PRIVACY_REVEAL_BUTTON)
        offer = RevealOffer(text=text, button=button, target=target)
        try:
            await self._offers.offer_reveal(thread, offer)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not offer a reveal in %s: %s", thread.thread_ts, exc)
