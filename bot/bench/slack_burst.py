"""``tandem bench slack-burst``: a burst of customer messages into handed-off conversations
that share one agent channel, against the Slack simulator with its per-channel limit on.

The real core (engine, outbox, redelivery on its alarm) and the real Slack desk (pacing,
merged posts, tagged posts) run in this process on SQLite, or on PostgreSQL + Redis (the
pace then goes through Redis, as between workers). First the handoffs open (their cards
posted with the limit off); then every conversation's customer sends its messages one
after another, all conversations at once, and the clock runs until every message is in its
thread. Counted from the simulator's threads: delivered, lost, duplicated, out of order,
posts, and the 429s Slack answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from bot.adapters.slack.delivery import RetryPolicy, web_client
from bot.adapters.slack.desk import SlackDesk
from bot.adapters.slack.pacing import ChannelPacer, MemoryPacer, PacingPolicy, Unpaced
from bot.adapters.slack.shared_pacing import RedisPacer
from bot.adapters.slack.tagged import TaggedPoster
from bot.bench.agent import _Channel, _Nlu
from bot.bench.errors import BenchError
from bot.bench.storage import fresh_database, redis_prefix, run_name
from bot.settings import Settings
from bot.simulators.slack import SlackSimulator
from bot.simulators.slack.defaults import AGENTS_CHANNEL_ID, BOT_TOKEN
from bot.simulators.slack.workspace import Message
from handoff.agent_texts import load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine import ConversationEngine
from handoff.model import ConversationKey, Customer, Inbound, MessageKind
from handoff.policy import FrustrationDetector, PolicyConfig
from handoff.redelivery import Alarm, redeliver_forever
from handoff.responses import load_responses
from handoff.state import LiveState, live_state_from_url
from handoff.storage import Database, Repository

TAG = re.compile(r"\bburst (\d+)/(\d+)\b")
REDELIVERY_INTERVAL = 5.0  # seconds: the periodic look, beside the alarm


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstOptions:
    conversations: int = 50
    messages: int = 200
    backend: str = "sqlite"
    pacing: bool = True
    per_second: float = 1.0  # the simulator's limit per channel
    burst: int = 3
    timeout: float = 300.0
    postgres: str
    redis: str


@dataclass(frozen=True, slots=True)
class BurstResult:
    backend: str
    pacing: bool
    messages: int
    conversations: int
    delivered: int
    lost: int
    duplicated: int
    out_of_order: int
    posts: int
    rate_limited: int  # HTTP 429 answers
    seconds: float  # from the first message to the last one in Slack (or the time-out)
    messages_per_second: float
    cpu_ms_per_message: float


async def run_burst(settings: Settings, options: BurstOptions) -> BurstResult:
    # A line per message or retried post would be most of what the run prints.
    quiet = [logging.getLogger(name) for name in ("handoff", "bot.adapters.slack")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    try:
        async with _storage(options) as (database, state, prefix), SlackSimulator() as slack:
            return await _run(settings, options, database, state, prefix, slack)
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


async def _run(  # noqa: PLR0917 - the run's parts, each built once by run_burst
    settings: Settings,
    options: BurstOptions,
    database: Database,
    state: LiveState,
    prefix: str | None,
    slack: SlackSimulator,
) -> BurstResult:
    setup = _Core(settings, database, state, _desk(slack, Unpaced()))
    keys = [ConversationKey("telegram", str(700_000 + n)) for n in range(options.conversations)]
    threads = {}
    for key in keys:
        await setup.send(key, None, command="human")
        threads[key] = setup.last_thread(slack)
    slack.limit_channel_posts(per_second=options.per_second, burst=options.burst)
    pacer = _pacer(settings, options, prefix)
    core = _Core(settings, database, state, _desk(slack, pacer))
    marked = slack.mark()
    per = _spread(options.messages, options.conversations)
    redelivery = asyncio.create_task(core.redeliver())
    cpu, started = time.process_time(), time.monotonic()
    try:
        await asyncio.gather(*(core.customer(key, n, per[n]) for n, key in enumerate(keys)))
        seconds = await _until_shown(slack, threads, options, started)
    finally:
        cpu = time.process_time() - cpu
        redelivery.cancel()
        await asyncio.gather(redelivery, return_exceptions=True)
        await pacer.close()
    return _count(slack, threads, options, per, seconds, cpu, marked)


class _Core:
    """The engine and handoff desk around ``desk``, with a recording Telegram."""

    def __init__(
        self, settings: Settings, database: Database, state: LiveState, desk: SlackDesk
    ) -> None:
        config = settings.config
        responses = load_responses(
            settings.path(config.conversation.responses_file), rng=random.Random(7)
        )
        conversations = Conversations(
            repository=Repository(database=database), state=state, channel=_Channel()
        )
        self.alarm = Alarm()
        self.handoffs = HandoffDesk(
            conversations=conversations,
            desk=desk,
            responses=responses,
            texts=load_agent_texts(settings.path(config.conversation.agents_file)),
            transcript_lines=config.conversation.transcript_lines,
            wake=self.alarm.ring_in,
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
        self._ids = itertools.count(1)

    async def send(self, key: ConversationKey, text: str | None, *, command: str | None) -> None:
        await self.engine.handle(
            Inbound(
                key=key,
                customer=Customer(user_id=key.chat_id, display_name=f"Customer {key.chat_id}"),
                message_id=f"{key.chat_id}-{next(self._ids)}-{time.monotonic_ns()}",
                kind=MessageKind.COMMAND if command else MessageKind.TEXT,
                sent_at=datetime.now(UTC),
                text=text,
                command=command,
            )
        )

    async def customer(self, key: ConversationKey, number: int, count: int) -> None:
        """One customer's messages, one after another, as the intake hands them over."""
        for n in range(1, count + 1):
            await self.send(key, f"burst {number}/{n}: where is my order?", command=None)

    async def redeliver(self) -> None:
        await redeliver_forever(
            lambda older_than: self.handoffs.redeliver_pending(older_than=older_than),
            interval=REDELIVERY_INTERVAL,
            alarm=self.alarm,
            due=self.handoffs.redeliver_due,
        )

    @staticmethod
    def last_thread(slack: SlackSimulator) -> str:
        cards = [m for m in slack.messages_in(AGENTS_CHANNEL_ID) if not m.is_reply]
        if not cards:
            raise BenchError("the handoff's card did not reach the Slack simulator")
        return cards[-1].ts


def _desk(slack: SlackSimulator, pacer: ChannelPacer) -> SlackDesk:
    policy = RetryPolicy(jitter=0.1)
    client = web_client(token=BOT_TOKEN, api_url=slack.api_url, policy=policy)
    poster = web_client(
        token=BOT_TOKEN, api_url=slack.api_url, policy=policy, retry_uncertain=False
    )
    tagged = TaggedPoster(poster=poster, reader=client, policy=policy)
    return SlackDesk(client=client, tagged=tagged, channel=AGENTS_CHANNEL_ID, pacer=pacer)


def _pacer(settings: Settings, options: BurstOptions, prefix: str | None) -> ChannelPacer:
    """Tandem's pacing as configured (``slack.pacing``), on Redis with PostgreSQL."""
    section = settings.config.slack.pacing
    if not options.pacing or section is None:
        return Unpaced()
    policy = PacingPolicy(
        per_second=section.per_second, burst=section.burst, wait_up_to=section.wait_up_to
    )
    if prefix is None:
        return MemoryPacer(policy)
    return RedisPacer.from_url(options.redis, policy=policy, key_prefix=prefix)


def _spread(messages: int, conversations: int) -> list[int]:
    """How many messages each conversation's customer sends (as even as can be)."""
    return [
        messages // conversations + (n < messages % conversations) for n in range(conversations)
    ]


def _shown(slack: SlackSimulator, thread: str) -> list[tuple[int, int]]:
    """The (conversation, message) numbers the thread shows, in the order shown."""
    return [
        (int(conversation), int(number))
        for message in slack.messages_in(AGENTS_CHANNEL_ID, thread)[1:]
        for conversation, number in TAG.findall(_texts(message))
    ]


def _texts(message: Message) -> str:
    sections = [
        block["text"]["text"]
        for block in message.blocks or []
        if block.get("type") == "section" and isinstance(block.get("text"), dict)
    ]
    return "\n".join(sections)


async def _until_shown(
    slack: SlackSimulator,
    threads: dict[ConversationKey, str],
    options: BurstOptions,
    started: float,
) -> float:
    """Seconds from ``started`` until every message is in a thread (or the time-out)."""
    while time.monotonic() - started < options.timeout:
        if sum(len(set(_shown(slack, thread))) for thread in threads.values()) >= options.messages:
            return time.monotonic() - started
        await asyncio.sleep(0.1)  # a benchmark watching a simulator, not a test
    return time.monotonic() - started


def _count(  # noqa: PLR0917 - what the run measured, counted in one place
    slack: SlackSimulator,
    threads: dict[ConversationKey, str],
    options: BurstOptions,
    per: list[int],
    seconds: float,
    cpu: float,
    marked: int,
) -> BurstResult:
    delivered = duplicated = out_of_order = posts = 0
    for thread in threads.values():
        shown = _shown(slack, thread)
        posts += len(slack.messages_in(AGENTS_CHANNEL_ID, thread)) - 1
        seen = Counter(shown)
        delivered += len(seen)
        duplicated += sum(count - 1 for count in seen.values())
        numbers = [number for _, number in shown]
        out_of_order += sum(1 for a, b in itertools.pairwise(numbers) if b < a)
    calls = slack.calls[marked:]
    return BurstResult(
        backend=options.backend,
        pacing=options.pacing,
        messages=sum(per),
        conversations=options.conversations,
        delivered=delivered,
        lost=sum(per) - delivered,
        duplicated=duplicated,
        out_of_order=out_of_order,
        posts=posts,
        rate_limited=sum(1 for call in calls if call.status == 429),
        seconds=seconds,
        messages_per_second=delivered / seconds if seconds else 0.0,
        cpu_ms_per_message=cpu * 1000 / max(1, sum(per)),
    )


@contextlib.asynccontextmanager
async def _storage(
    options: BurstOptions,
) -> AsyncIterator[tuple[Database, LiveState, str | None]]:
    if options.backend == "sqlite":
        with contextlib.ExitStack() as stack:
            import tempfile  # noqa: PLC0415

            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="tandem-burst-"))
            database = Database.from_url(f"sqlite+aiosqlite:///{folder}/burst.db")
            try:
                await database.upgrade()
                yield database, live_state_from_url(None), None
            finally:
                await database.dispose()
        return
    name = run_name()
    async with (
        fresh_database(options.postgres, name) as url,
        redis_prefix(options.redis, name) as prefix,
    ):
        database = Database.from_url(url)
        state = live_state_from_url(options.redis, key_prefix=prefix)
        try:
            await database.upgrade()
            yield database, state, prefix
        finally:
            await state.close()
            await database.dispose()


def table(results: list[BurstResult]) -> list[str]:
    head = (
        f"{'backend':<10}{'pacing':<8}{'msgs':>6}{'deliv':>7}{'lost':>6}{'dup':>5}{'order':>7}"
        f"{'posts':>7}{'429s':>7}{'seconds':>9}{'msg/s':>8}{'CPU ms/msg':>12}"
    )
    lines = [head]
    for r in results:
        lines.append(
            f"{r.backend:<10}{'on' if r.pacing else 'off':<8}{r.messages:>6}{r.delivered:>7}"
            f"{r.lost:>6}{r.duplicated:>5}{r.out_of_order:>7}{r.posts:>7}{r.rate_limited:>7}"
            f"{r.seconds:>9.1f}{r.messages_per_second:>8.2f}{r.cpu_ms_per_message:>12.2f}"
        )
    return lines


def as_dicts(results: list[BurstResult]) -> list[dict[str, object]]:
    return [asdict(result) for result in results]
