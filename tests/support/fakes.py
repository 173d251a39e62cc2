"""Hand-written fakes of the ports, recording what they were asked to do."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from handoff.errors import DeliveryError, FailureCause
from handoff.model import (
    Agent,
    Attachment,
    ButtonAnswer,
    CardState,
    ConversationKey,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
    Outbound,
    Receipt,
)
from nlu.client import Entity, IntentScore, ParseResult
from nlu.errors import NluUnavailable


class ProcessDied(Exception):
    """Stands for the process dying in the middle of an event."""


class RecordingChannel:
    """A customer channel that records what it delivers; can be told to refuse.

    Downloads return the bytes put in ``files`` under the attachment's id; any other id
    raises DeliveryError, as a file that cannot be fetched does.
    """

    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.answers: list[ButtonAnswer] = []
        self.typing: list[ConversationKey] = []
        self.edits: list[tuple[str, str]] = []  # (message id, new text)
        self.deletions: list[str] = []
        self.refuse: str | None = None  # a DeliveryError message, while set
        self.refuse_cause = FailureCause.REFUSED  # and why it is refused
        self.refuse_only: str | None = None  # while set, only sends of this text are refused
        self.crash = False  # while set, sending fails as if the process died in it
        self.files: dict[str, bytes] = {}
        self.downloads: list[Attachment] = []
        self._ids = itertools.count(1000)

    async def send(self, message: Outbound) -> str:
        if self.crash:
            raise ProcessDied("the process died while sending")
        if self.refuse is not None and self.refuse_only in (None, message.text):
            raise DeliveryError(self.refuse, cause=self.refuse_cause)
        self.sent.append(message)
        return str(next(self._ids))

    async def answer_button(self, answer: ButtonAnswer) -> None:
        self.answers.append(answer)

    async def show_typing(self, key: ConversationKey) -> None:
        self.typing.append(key)

    async def edit_text(self, key: ConversationKey, message_id: str, text: str) -> None:
        if self.refuse is not None:
            raise DeliveryError(self.refuse, cause=self.refuse_cause)
        self.edits.append((message_id, text))

    async def delete(self, key: ConversationKey, message_id: str) -> None:
        if self.refuse is not None:
            raise DeliveryError(self.refuse, cause=self.refuse_cause)
        self.deletions.append(message_id)

    async def download(self, attachment: Attachment) -> bytes:
        self.downloads.append(attachment)
        if attachment.file_id not in self.files:
            raise DeliveryError(f"file {attachment.file_id} cannot be fetched")
        return self.files[attachment.file_id]

    def texts(self, key: ConversationKey | None = None) -> list[str]:
        return [m.text for m in self.sent if key is None or m.key == key]


@dataclass
class ScriptedNlu:
    """The NLU as a table: text -> ranking (best first). Unknown text: low confidence."""

    table: Mapping[str, list[tuple[str, float]]] = field(default_factory=dict)
    entities: Mapping[str, list[tuple[str, str]]] = field(default_factory=dict)
    down: bool = False
    seen: list[str] = field(default_factory=list)

    async def parse(self, text: str) -> ParseResult:
        self.seen.append(text)
        if self.down:
            raise NluUnavailable("scripted outage")
        ranking = self.table.get(text, [("out_of_scope", 0.2), ("greet", 0.15)])
        scores = tuple(IntentScore(name, confidence) for name, confidence in ranking)
        found = tuple(Entity(entity=e, value=v) for e, v in self.entities.get(text, []))
        return ParseResult(text=text, intent=scores[0], ranking=scores, entities=found)


@dataclass
class RecordingDesk:
    """An agent desk that records cards, relays, notes and private messages."""

    channel: str = "C0AGENTS"
    tickets: list[HandoffTicket] = field(default_factory=list)
    relays: list[tuple[DeskThread, CustomerRelay, Customer]] = field(default_factory=list)
    cards: list[tuple[DeskThread, CardState]] = field(default_factory=list)
    notes: list[tuple[DeskThread, str]] = field(default_factory=list)
    told: list[tuple[DeskThread, Agent, str]] = field(default_factory=list)
    reactions: list[tuple[str, Receipt]] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)  # replies offered again with Retry
    fail_open: bool = False
    fail_relays: int = 0  # this many relays raise DeliveryError, then they succeed again
    merged: list[int] = field(default_factory=list)  # how many messages each relay_many had
    followed: list[tuple[DeskThread, HandoffTicket]] = field(default_factory=list)
    _ts: Callable[[], int] = field(default_factory=lambda: itertools.count(1).__next__)
    _opened: asyncio.Event = field(default_factory=asyncio.Event)
    _relayed: asyncio.Event = field(default_factory=asyncio.Event)

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        if self.fail_open:
            raise DeliveryError("desk unreachable")
        self.tickets.append(ticket)
        self._opened.set()
        return DeskThread(channel=self.channel, thread_ts=f"1700000000.{self._ts():06d}")

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        if self.fail_relays > 0:
            self.fail_relays -= 1
            raise DeliveryError("desk unreachable")
        self.relays.append((thread, message, customer))
        self._relayed.set()
        return f"1700000001.{len(self.relays):06d}"

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        """Records each message as a relay of its own, and the merge in ``merged``."""
        self.merged.append(len(messages))
        return [
            await self.relay_to_agents(thread, message, customer=customer) or ""
            for message in messages
        ]

    async def wait_for_relays(self, count: int, *, timeout: float = 10.0) -> None:
        """Until ``count`` customer messages were shown to agents (events, not sleeps)."""
        await _until(lambda: len(self.relays) >= count, self._relayed, timeout)

    async def wait_for_tickets(self, count: int, *, timeout: float = 10.0) -> list[HandoffTicket]:
        await _until(lambda: len(self.tickets) >= count, self._opened, timeout)
        return self.tickets

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        self.followed.append((thread, ticket))

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        self.cards.append((thread, state))

    async def post_note(self, thread: DeskThread, text: str) -> None:
        self.notes.append((thread, text))

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        self.told.append((thread, agent, text))

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        self.reactions.append((message_ts, receipt))

    async def offer_retry(
        self, thread: DeskThread, text: str, button: str, message_id: int
    ) -> None:
        self.notes.append((thread, text))
        self.retries.append(message_id)


async def _until(done: Callable[[], bool], changed: asyncio.Event, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            changed.clear()
            await changed.wait()
