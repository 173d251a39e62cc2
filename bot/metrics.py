"""``/metrics`` in the Prometheus text format (prometheus-client).

Two sources. What the record holds (messages, decisions, handoffs, failed deliveries,
ratings, waits) is read from the database at each scrape (:mod:`handoff.storage.telemetry`):
the same on every worker, kept across restarts, never counted twice. What only this
process sees (how long Rasa took to parse, how long a customer waited for the reply to an
update) is measured here, by decorating the NLU port, the customers' handler and the
customers' channel.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from handoff.errors import HandoffError
from handoff.intake import CustomerHandler
from handoff.model import Attachment, ButtonAnswer, ConversationKey, Inbound, Outbound
from handoff.ports import CustomerChannel, InboundHandler
from handoff.storage import Database
from handoff.storage.telemetry import Count, Telemetry, read_telemetry
from nlu.parsing import NluParser, ParseResult

logger = logging.getLogger(__name__)

# Seconds: from a quick claim to a day's wait.
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0)
# Seconds: a parse or a bot's reply, from a few milliseconds to a stalled Rasa.
FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_DIRECTIONS = {"customer": "inbound", "bot": "outbound", "agent": "outbound"}
# Updates still waiting for a reply; beyond this many, the oldest are forgotten (a chat that
# never gets a reply must not grow the process).
_MAX_PENDING = 10_000


def histogram_buckets(values: Sequence[float], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Cumulative counts per upper bound, ``+Inf`` last, as the text format wants them."""
    counts = [(repr(bound), float(sum(1 for v in values if v <= bound))) for bound in bounds]
    return [*counts, ("+Inf", float(len(values)))]


def families(snapshot: Telemetry) -> Iterator[Metric]:
    """The record's figures as metric families."""
    yield _counter(
        "tandem_conversations",
        "Conversations, by whether a person took part (handed_off=false: the bot alone).",
        ["handed_off"],
        snapshot.conversations,
    )
    messages = CounterMetricFamily(
        "tandem_messages",
        "Messages stored, by direction, author and platform.",
        labels=["direction", "author", "platform"],
    )
    for count in snapshot.messages:
        author, platform = count.labels
        direction = _DIRECTIONS.get(author, "internal")
        messages.add_metric([direction, author, platform], count.value)
    yield messages
    yield _counter(
        "tandem_agent_replies",
        "Agents' replies to customers, by source: a draft sent as it was, a draft edited "
        "first, or typed.",
        ["source"],
        snapshot.agent_replies,
    )
    yield _counter(
        "tandem_decisions",
        "The bot's decisions on customers' turns, by action and primary reason.",
        ["action", "reason"],
        snapshot.decisions,
    )
    yield _counter(
        "tandem_handoffs",
        "Handoffs to people, by reason and route (the agent channel of the card).",
        ["reason", "route"],
        snapshot.handoffs,
    )
    yield _counter(
        "tandem_failed_deliveries",
        "Messages the other side refused for good, by the platform that refused.",
        ["platform"],
        snapshot.failed_deliveries,
    )
    yield _counter(
        "tandem_retracted_answers",
        "The bot's answers agents retracted (deleted in the customer's chat), by platform.",
        ["platform"],
        snapshot.retracted_answers,
    )
    yield _counter(
        "tandem_ratings",
        "Customers' ratings of their conversations, by score.",
        ["score"],
        snapshot.ratings,
    )
    yield GaugeMetricFamily(
        "tandem_handoffs_waiting", "Open handoffs nobody has claimed.", value=snapshot.waiting
    )
    yield GaugeMetricFamily(
        "tandem_handoffs_claimed", "Open handoffs an agent owns.", value=snapshot.claimed
    )
    for name, doc, values in (
        (
            "tandem_time_to_claim_seconds",
            "From a handoff's request to its claim.",
            snapshot.time_to_claim,
        ),
        (
            "tandem_first_response_seconds",
            "From a handoff's request to the first agent reply.",
            snapshot.first_response,
        ),
        (
            "tandem_resolution_seconds",
            "From a handoff's request to an agent closing it.",
            snapshot.resolution,
        ),
    ):
        yield HistogramMetricFamily(
            name, doc, buckets=histogram_buckets(values, WAIT_BUCKETS), sum_value=sum(values)
        )


def _counter(name: str, doc: str, labels: list[str], counts: Iterable[Count]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for count in counts:
        family.add_metric(list(count.labels), count.value)
    return family


class RecordCollector(Collector):
    """Yields the families of the last snapshot read; ``tandem_record_up`` says whether
    that read succeeded (0: the figures from the record are missing from this scrape)."""

    def __init__(self) -> None:
        self.snapshot: Telemetry | None = None

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "tandem_record_up",
            "1 when this scrape could read the figures from the database.",
            value=0 if self.snapshot is None else 1,
        )
        if self.snapshot is not None:
            yield from families(self.snapshot)


@dataclass
class Metrics:
    """The registry ``/metrics`` shows, and the decorators that measure this process."""

    database: Database
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self._record = RecordCollector()
        self.registry.register(self._record)
        self.nlu_parse = Histogram(
            "tandem_nlu_parse_seconds",
            "How long the NLU took to parse a customer's message (failures included).",
            buckets=FAST_BUCKETS,
            registry=self.registry,
        )
        self.update_to_reply = Histogram(
            "tandem_update_to_reply_seconds",
            "From a customer's update reaching Tandem to the first reply sent for it.",
            buckets=FAST_BUCKETS,
            registry=self.registry,
        )
        self.replies = ReplyWatch(self.update_to_reply)

    async def render(self) -> bytes:
        """The text exposition, with the record read now."""
        try:
            self._record.snapshot = await read_telemetry(self.database)
        except HandoffError as exc:
            logger.warning("/metrics without the figures from the database: %s", exc)
            self._record.snapshot = None
        return generate_latest(self.registry)

    async def serve(self, request: web.Request) -> web.Response:
        body = await self.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def nlu(self, inner: NluParser) -> NluParser:
        return TimedNlu(inner=inner, histogram=self.nlu_parse)


@dataclass
class TimedNlu:
    """Implements :class:`~nlu.parsing.NluParser` around ``inner``, timing every parse."""

    inner: NluParser
    histogram: Histogram

    async def parse(self, text: str) -> ParseResult:
        started = time.perf_counter()
        try:
            return await self.inner.parse(text)
        finally:
            self.histogram.observe(time.perf_counter() - started)


class ReplyWatch:
    """Update-to-reply latency: an update's arrival is noted when the adapter hands it over
    (before the journal), and the first message sent to its chat while it is handled ends
    the wait. An update handled without a reply (a person will answer) is not counted."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._arrived: OrderedDict[tuple[ConversationKey, str], float] = OrderedDict()
        self._replied: dict[ConversationKey, float] = {}
        self._handling: set[ConversationKey] = set()

    def arrivals(self, inner: InboundHandler) -> InboundHandler:
        return _Arrivals(inner=inner, watch=self)

    def customers(self, inner: CustomerHandler) -> CustomerHandler:
        return _Handled(inner=inner, watch=self)

    def channel(self, inner: CustomerChannel) -> CustomerChannel:
        return _Sent(inner=inner, watch=self)

    def arrived(self, inbound: Inbound) -> None:
        self._arrived.setdefault((inbound.key, inbound.message_id), time.perf_counter())
        while len(self._arrived) > _MAX_PENDING:
            self._arrived.popitem(last=False)

    def sent(self, key: ConversationKey) -> None:
        if key in self._handling:
            self._replied.setdefault(key, time.perf_counter())

    def start(self, inbound: Inbound) -> None:
        self._handling.add(inbound.key)

    def finish(self, inbound: Inbound, *, handled: bool) -> None:
        """The end of one try; one that failed (storage away) is tried again later, and
        the wait goes on until a reply."""
        self._handling.discard(inbound.key)
        replied = self._replied.pop(inbound.key, None)
        if replied is None and not handled:
            return
        arrived = self._arrived.pop((inbound.key, inbound.message_id), None)
        if arrived is not None and replied is not None:
            self._histogram.observe(replied - arrived)


@dataclass
class _Arrivals:
    inner: InboundHandler
    watch: ReplyWatch

    async def handle(self, inbound: Inbound) -> None:
        self.watch.arrived(inbound)
        await self.inner.handle(inbound)


@dataclass
class _Handled:
    inner: CustomerHandler
    watch: ReplyWatch

    async def handle(self, inbound: Inbound) -> None:
        self.watch.start(inbound)
        handled = False
        try:
            await self.inner.handle(inbound)
            handled = True
        finally:
            self.watch.finish(inbound, handled=handled)

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        return await self.inner.give_up(inbound, error=error)


@dataclass
class _Sent:
    inner: CustomerChannel
    watch: ReplyWatch

    async def send(self, message: Outbound) -> str:
        sent = await self.inner.send(message)
        self.watch.sent(message.key)
        return sent

    async def answer_button(self, answer: ButtonAnswer) -> None:
        await self.inner.answer_button(answer)

    async def show_typing(self, key: ConversationKey) -> None:
        await self.inner.show_typing(key)

    async def edit_text(self, key: ConversationKey, message_id: str, text: str) -> None:
        await self.inner.edit_text(key, message_id, text)

    async def delete(self, key: ConversationKey, message_id: str) -> None:
        await self.inner.delete(key, message_id)

    async def download(self, attachment: Attachment) -> bytes:
        return await self.inner.download(attachment)
