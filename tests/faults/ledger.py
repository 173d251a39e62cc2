"""The fault tests' bookkeeping: every message a customer or an agent sends carries an id in
its text ("m-17", "a-5"); the ledger knows what was sent, and counts, from what each side
ended up with, what was delivered, lost, duplicated and out of order, and which customers
were answered or told about a delay.

Pure: the harness (:mod:`tests.faults.harness`) reads the simulators into an
:class:`Observed` snapshot; :meth:`Ledger.count` does the arithmetic.
"""

from __future__ import annotations

import enum
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

MESSAGE_ID = re.compile(r"(?<![\w-])([ma]-\d+)(?![\w-])")


class Route(enum.Enum):
    TO_AGENTS = "customer -> Slack thread"
    TO_CUSTOMER = "agent -> Telegram chat"
    TO_BOT = "customer -> bot"


@dataclass(frozen=True, slots=True)
class Sent:
    id: str
    chat: int  # the customer's chat: the conversation
    route: Route
    wall: float  # time.time(), to compare with Slack's message timestamps
    mono: float  # time.monotonic(), to compare with the Telegram simulator's calls


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message as it shows on one side, with when it got there (the clock of that side:
    ``wall`` for Slack, ``mono`` for Telegram)."""

    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Observed:
    """What each side has, per customer chat, in the order it arrived there."""

    threads: Mapping[int, Sequence[Arrival]]  # Slack: the chat's handoff thread(s)
    chats: Mapping[int, Sequence[Arrival]]  # Telegram: what the bot sent to the chat


@dataclass(frozen=True, slots=True)
class Counts:
    sent: int
    delivered: int
    lost: int
    duplicated: int
    out_of_order: int
    to_bot: int  # customers' messages in bot mode...
    answered: int  # ...that got a reply (not counting delay notices)
    unanswered: int
    customers_unanswered: int
    waited: int  # customers who waited longer than the notice threshold...
    notified: int  # ...and of them, those told about the delay
    lost_ids: tuple[str, ...] = ()
    duplicated_ids: tuple[str, ...] = ()
    out_of_order_ids: tuple[str, ...] = ()
    unanswered_ids: tuple[str, ...] = ()

    def line(self) -> str:
        """One line for the log and the assertion messages."""
        text = (
            f"sent {self.sent}, delivered {self.delivered}, lost {self.lost}, "
            f"duplicated {self.duplicated}, out of order {self.out_of_order}; "
            f"bot mode: {self.to_bot} sent, {self.answered} answered, "
            f"{self.unanswered} unanswered ({self.customers_unanswered} customers); "
            f"waited: {self.waited}, told: {self.notified}"
        )
        details = [
            f"{name} {', '.join(ids[:12])}"
            for name, ids in (
                ("lost:", self.lost_ids),
                ("duplicated:", self.duplicated_ids),
                ("out of order:", self.out_of_order_ids),
                ("unanswered:", self.unanswered_ids),
            )
            if ids
        ]
        return "; ".join([text, *details])

    @property
    def clean(self) -> bool:
        """Nothing lost, duplicated or out of order; every bot-mode message answered."""
        return not (self.lost or self.duplicated or self.out_of_order or self.unanswered)


@dataclass
class Ledger:
    """Hands out ids and remembers what was sent with them."""

    is_notice: Callable[[str], bool] = field(default=lambda text: False)
    sent: list[Sent] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def record(self, chat: int, route: Route, words: str) -> str:
        """Record a message about to be sent; returns its text: ``words`` and a fresh id."""
        prefix = "a" if route is Route.TO_CUSTOMER else "m"
        message_id = f"{prefix}-{next(self._numbers)}"
        self.sent.append(Sent(message_id, chat, route, wall=time.time(), mono=time.monotonic()))
        return f"{words} {message_id}"

    def of(self, route: Route) -> list[Sent]:
        return [s for s in self.sent if s.route is route]

    def count(self, observed: Observed, *, notice_after: float | None = None) -> Counts:
        relayed = _Relayed(self.of(Route.TO_AGENTS), observed.threads)
        replies = _Relayed(self.of(Route.TO_CUSTOMER), observed.chats)
        bot = _BotTurns(self.of(Route.TO_BOT), observed.chats, self.is_notice)
        waited, notified = self._delays(relayed, bot, observed, notice_after)
        lost = relayed.lost + replies.lost
        duplicated = relayed.duplicated + replies.duplicated
        out_of_order = relayed.out_of_order + replies.out_of_order
        return Counts(
            sent=relayed.sent + replies.sent,
            delivered=relayed.delivered + replies.delivered,
            lost=len(lost),
            duplicated=len(duplicated),
            out_of_order=len(out_of_order),
            to_bot=len(bot.turns),
            answered=len(bot.turns) - len(bot.unanswered),
            unanswered=len(bot.unanswered),
            customers_unanswered=len({s.chat for s in bot.unanswered}),
            waited=len(waited),
            notified=len(notified),
            lost_ids=tuple(lost),
            duplicated_ids=tuple(duplicated),
            out_of_order_ids=tuple(out_of_order),
            unanswered_ids=tuple(s.id for s in bot.unanswered),
        )

    def _delays(
        self,
        relayed: _Relayed,
        bot: _BotTurns,
        observed: Observed,
        notice_after: float | None,
    ) -> tuple[set[int], set[int]]:
        """The customers who waited longer than ``notice_after`` for a message to be handled
        (lost ones wait for ever), and those of them who got a notice after sending it."""
        if notice_after is None:
            return set(), set()
        waited: set[int] = set()
        notified: set[int] = set()
        for sent in self.sent:
            if sent.route is Route.TO_CUSTOMER:
                continue
            delay = relayed.delay(sent) if sent.route is Route.TO_AGENTS else bot.delay(sent)
            if delay <= notice_after:
                continue
            waited.add(sent.chat)
            chat = observed.chats.get(sent.chat, ())
            if any(self.is_notice(a.text) and a.at > sent.mono for a in chat):
                notified.add(sent.chat)
        return waited, notified


class _Relayed:
    """Messages relayed to the other side: per conversation, found there how often, in
    which order."""

    def __init__(self, sent: Sequence[Sent], sides: Mapping[int, Sequence[Arrival]]) -> None:
        self.sent = len(sent)
        self._first: dict[str, Arrival] = {}
        copies: Counter[str] = Counter()
        self.out_of_order: list[str] = []
        by_chat: dict[int, list[Sent]] = {}
        for item in sent:
            by_chat.setdefault(item.chat, []).append(item)
        for chat, items in by_chat.items():
            rank = {item.id: number for number, item in enumerate(items)}
            latest = -1
            for arrival in sides.get(chat, ()):
                for found in MESSAGE_ID.findall(arrival.text):
                    if found not in rank:
                        continue
                    copies[found] += 1
                    if copies[found] > 1:
                        continue
                    self._first[found] = arrival
                    if rank[found] < latest:  # something sent after it got there first
                        self.out_of_order.append(found)
                    latest = max(latest, rank[found])
        self.delivered = len(self._first)
        self.lost = [item.id for item in sent if item.id not in self._first]
        self.duplicated = sorted((i for i, n in copies.items() if n > 1), key=_number)

    def delay(self, sent: Sent) -> float:
        arrival = self._first.get(sent.id)
        return math.inf if arrival is None else arrival.at - sent.wall


class _BotTurns:
    """Customers' messages in bot mode: answered when a reply (not a notice) came after."""

    def __init__(
        self,
        turns: Sequence[Sent],
        chats: Mapping[int, Sequence[Arrival]],
        is_notice: Callable[[str], bool],
    ) -> None:
        self.turns = list(turns)
        self._answers: dict[str, float] = {}
        for turn in self.turns:
            replies = [
                a.at for a in chats.get(turn.chat, ()) if a.at > turn.mono and not is_notice(a.text)
            ]
            if replies:
                self._answers[turn.id] = min(replies)
        self.unanswered = [t for t in self.turns if t.id not in self._answers]

    def delay(self, sent: Sent) -> float:
        answered = self._answers.get(sent.id)
        return math.inf if answered is None else answered - sent.mono


def _number(message_id: str) -> int:
    return int(message_id.split("-", 1)[1])
