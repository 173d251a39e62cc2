"""``tandem bench agent-reply``: what an agent's reply costs the core, counted.

The real core (engine, handoff desk, storage, live state) runs in this process on SQLite
or on PostgreSQL + Redis, with a recording agent desk and customer channel in place of
Slack and Telegram. Each handoff: the customer asks for a person (the card is posted),
then an agent's first reply (the agent claims it by replying, and is introduced), then
later replies. For each reply: database transactions and statements, statements reading
the conversation row, "recent messages" reads, CPU milliseconds of this process (without
the profiler) and project function calls (under cProfile, on a few handoffs).
"""

from __future__ import annotations

import contextlib
import cProfile
import itertools
import logging
import pstats
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.bench.storage import fresh_database, redis_prefix, run_name
from bot.settings import Settings
from handoff.agent_texts import load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine import ConversationEngine
from handoff.model import (
    Agent,
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
    MessageKind,
    Outbound,
    Receipt,
)
from handoff.policy import FrustrationDetector, PolicyConfig
from handoff.responses import load_responses
from handoff.state import LiveState, live_state_from_url
from handoff.storage import Database, Repository
from handoff.storage.counting import Counts, StatementCounter
from nlu.parsing import IntentScore, ParseResult

# Where project code lives, for counting its function calls (not the libraries').
_PROJECT = tuple(str(Path(__file__).resolve().parents[2] / part) for part in ("bot", "handoff"))
_PROFILED_HANDOFFS = 3  # handoffs run under cProfile, after the measured ones
AGENT = Agent("U0BENCH01", "Bench Agent")


@dataclass(frozen=True, slots=True)
class Cost:
    """The mean cost of one kind of reply."""

    replies: int
    transactions: float
    statements: float
    conversation_reads: float
    recent_reads: float
    cpu_ms: float
    calls: float  # project function calls, under cProfile


@dataclass(frozen=True, slots=True)
class Row:
    backend: str
    request: Cost  # the customer's /human: the handoff opens, its card is posted
    first: Cost
    later: Cost


class _Channel:
    """The customer channel: accepts everything, remembers nothing but a count."""

    def __init__(self) -> None:
        self.sent = 0
        self._ids = itertools.count(10_000)

    async def send(self, message: Outbound) -> str:
        self.sent += 1
        return str(next(self._ids))

    async def answer_button(self, answer: ButtonAnswer) -> None:
        return None

    async def show_typing(self, key: ConversationKey) -> None:
        return None

    async def edit_text(self, key: ConversationKey, message_id: str, text: str) -> None:
        return None

    async def delete(self, key: ConversationKey, message_id: str) -> None:
        return None

    async def download(self, attachment: Attachment) -> bytes:
        return b""


@dataclass
class _Desk:
    """The agent desk: posts cards with fresh threads, records what it was asked."""

    threads: list[DeskThread] = field(default_factory=list)
    calls: int = 0
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread | None:
        thread = DeskThread(channel="C0BENCH", thread_ts=f"1700000000.{next(self._ts):06d}")
        self.threads.append(thread)
        return thread

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        self.calls += 1
        return f"1700000001.{next(self._ts):06d}"

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        self.calls += 1
        return [f"1700000001.{next(self._ts):06d}" for _ in messages]

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        return None

    async def show_card(self, thread: DeskThread, state: CardState) -> None:
        self.calls += 1

    async def post_note(self, thread: DeskThread, text: str) -> None:
        self.calls += 1

    async def tell_agent(self, thread: DeskThread, agent: Agent, text: str) -> None:
        self.calls += 1

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        self.calls += 1

    async def offer_retry(
        self, thread: DeskThread, text: str, button: str, message_id: int
    ) -> None:
        self.calls += 1


class _Nlu:
    """Never consulted for /human; answers anything else with "no idea"."""

    async def parse(self, text: str) -> ParseResult:
        guess = IntentScore("out_of_scope", 0.2)
        return ParseResult(text=text, intent=guess, ranking=(guess,), entities=())


@dataclass
class _Sample:
    counts: list[Counts] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)

    def cost(self) -> Cost:
        def mean(values: list[int] | list[float]) -> float:
            return statistics.fmean(values) if values else 0.0

        return Cost(
            replies=len(self.counts),
            transactions=mean([c.transactions for c in self.counts]),
            statements=mean([c.statements for c in self.counts]),
            conversation_reads=mean([c.conversation_reads for c in self.counts]),
            recent_reads=mean([c.recent_reads for c in self.counts]),
            cpu_ms=mean(self.cpu_ms),
            calls=mean(self.calls),
        )


class _Bench:
    def __init__(self, settings: Settings, database: Database, state: LiveState) -> None:
        config = settings.config
        responses = load_responses(
            settings.path(config.conversation.responses_file), rng=random.Random(7)
        )
        texts = load_agent_texts(settings.path(config.conversation.agents_file))
        self.desk = _Desk()
        conversations = Conversations(
            repository=Repository(database=database), state=state, channel=_Channel()
        )
        self.handoffs = HandoffDesk(
            conversations=conversations,
            desk=self.desk,
            responses=responses,
            texts=texts,
            transcript_lines=config.conversation.transcript_lines,
        )
        policy = PolicyConfig()
        self.engine = ConversationEngine(
            conversations=conversations,
            desk=self.handoffs,
            nlu=_Nlu(),
            responses=responses,
            policy=policy,
            detector=FrustrationDetector(policy.frustration),
        )
        self.counter = StatementCounter(database)
        self._ids = itertools.count(1)

    async def handoff(
        self, chat: int, replies: int, samples: tuple[_Sample, _Sample, _Sample], *, profile: bool
    ) -> None:
        request, first, later = samples
        key = ConversationKey("telegram", str(900_000 + chat))
        customer = Customer(user_id=key.chat_id, display_name=f"Customer {chat}")
        for text, command in (("hello", None), (None, "human"), ("my order is late", None)):
            inbound = Inbound(
                key=key,
                customer=customer,
                message_id=str(next(self._ids)),
                kind=MessageKind.COMMAND if command else MessageKind.TEXT,
                sent_at=datetime.now(UTC),
                text=text,
                command=command,
            )
            if command == "human":
                await self._measure(
                    lambda inbound=inbound: self.engine.handle(inbound),  # type: ignore[misc]
                    request,
                    profile=profile,
                )
            else:
                await self.engine.handle(inbound)
        thread = self.desk.threads[-1]
        for n in range(1 + replies):
            reply = AgentReply(thread, AGENT, f"reply {n} to chat {chat}", f"{chat}.{n:04d}")
            await self._measure(
                lambda reply=reply: self.handoffs.agent_reply(reply),  # type: ignore[misc]
                first if n == 0 else later,
                profile=profile,
            )

    async def _measure(
        self, run: Callable[[], Awaitable[None]], sample: _Sample, *, profile: bool
    ) -> None:
        self.counter.take()
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await run()
            profiler.disable()
            self.counter.take()
            sample.calls.append(_project_calls(profiler))
            return
        started = time.process_time()
        await run()
        sample.cpu_ms.append((time.process_time() - started) * 1000)
        sample.counts.append(self.counter.take())


def _project_calls(profiler: cProfile.Profile) -> int:
    stats = pstats.Stats(profiler)
    return sum(
        calls
        for (filename, _, _), (_, calls, _, _, _) in stats.stats.items()  # type: ignore[attr-defined]
        if filename.startswith(_PROJECT)
    )


async def measure(
    settings: Settings, *, backend: str, handoffs: int, replies: int, postgres: str, redis: str
) -> Row:
    """One row: ``handoffs`` handoffs on ``backend`` ("sqlite" or "postgres")."""
    request, first, later = _Sample(), _Sample(), _Sample()
    quiet = logging.getLogger("handoff")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # a line per message would be most of the CPU measured
    try:
        async with _storage(backend, postgres=postgres, redis=redis) as (database, state):
            bench = _Bench(settings, database, state)
            try:
                for chat in range(handoffs + _PROFILED_HANDOFFS):
                    await bench.handoff(
                        chat, replies, (request, first, later), profile=chat >= handoffs
                    )
            finally:
                bench.counter.close()
    finally:
        quiet.setLevel(level)
    return Row(backend=backend, request=request.cost(), first=first.cost(), later=later.cost())


@contextlib.asynccontextmanager
async def _storage(
    backend: str, *, postgres: str, redis: str
) -> AsyncIterator[tuple[Database, LiveState]]:
    if backend == "sqlite":
        with _temporary_folder() as folder:
            database = Database.from_url(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
            try:
                await database.upgrade()
                yield database, live_state_from_url(None)
            finally:
                await database.dispose()
        return
    name = run_name()
    async with fresh_database(postgres, name) as url, redis_prefix(redis, name) as prefix:
        database = Database.from_url(url)
        state = live_state_from_url(redis, key_prefix=prefix)
        try:
            await database.upgrade()
            yield database, state
        finally:
            await state.close()
            await database.dispose()


@contextlib.contextmanager
def _temporary_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tandem-bench-agent-") as folder:
        yield Path(folder)


def table(rows: list[Row]) -> list[str]:
    """The rows as text: one line per backend and kind of reply."""
    head = (
        f"{'backend':<10}{'reply':<8}{'n':>5}{'tx':>7}{'stmts':>8}{'conv rd':>9}"
        f"{'recent rd':>11}{'CPU ms':>9}{'calls':>8}"
    )
    lines = [head]
    for row in rows:
        for label, cost in (("/human", row.request), ("first", row.first), ("later", row.later)):
            lines.append(
                f"{row.backend:<10}{label:<8}{cost.replies:>5}{cost.transactions:>7.1f}"
                f"{cost.statements:>8.1f}{cost.conversation_reads:>9.1f}"
                f"{cost.recent_reads:>11.1f}{cost.cpu_ms:>9.2f}{cost.calls:>8.0f}"
            )
    return lines


def as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]
