"""What teaching the bot from a handoff's thread passes between the core
(:mod:`handoff.teaching`) and the agents' tool: offers, forms and the picks made in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handoff.model import Agent, ConversationKey, DeskThread


@dataclass(frozen=True, slots=True)
class TeachOffer:
    message_id: int
    text: str  # the customer's text, masked
    prompt: str  # what the offer says (the catalogue's)
    label: str  # the picker's label
    choices: tuple[str, ...]  # intents, the model's top guesses first
    other: str  # the label of the button that opens the form (another or a new intent)


@dataclass(frozen=True, slots=True)
class TeachForm:
    """The form an agent labels one customer message in: an intent from the offer's choices
    or a new intent's name. Opened by the "Teach the bot this" shortcut on a message in the
    thread, or by the button under an offer; its words are the catalogue's."""

    thread: DeskThread
    offer: TeachOffer
    title: str
    new: str  # the label of the new intent's field
    hint: str
    submit: str
    # A post showing several customer messages (the pacing merges what the customer wrote
    # close together; each stays a message of its own, posted as the same post): each
    # message's id and masked text, for the agent to choose the one taught (``which`` is
    # the choice's label); empty for a post of one message.
    merged: tuple[tuple[int, str], ...] = ()
    which: str = ""


class CardRedraw(Protocol):
    """Draws a handoff's card again (the handoff desk, built after the teacher)."""

    async def redraw_card(self, handoff_id: int, key: ConversationKey) -> None: ...


class TeachOffers(Protocol):
    """Where offers are posted (the Slack adapter implements it)."""

    async def offer_teaching(self, thread: DeskThread, offer: TeachOffer) -> None: ...


@dataclass(frozen=True, slots=True)
class TeachRequest:
    thread: DeskThread
    agent: Agent
    message_id: int
    intent: str  # one of the offer's choices, or a new intent's name
