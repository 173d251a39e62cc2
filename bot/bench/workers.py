"""``tandem bench load --workers N``: N ``tandem run`` processes on one PostgreSQL and one
Redis, as an operator runs several workers: webhook mode behind a round-robin load
balancer (Telegram's updates and Slack's events spread over all of them), one Rasa for
all (``RASA_URL``), each worker with its own data folder (its intake journal).

Per number of workers, with fresh simulators, database and Redis prefix: every customer
asks for a person (the handoffs open, not measured); then, measured, the customers write
their messages round by round, all conversations at once, while an agent replies in every
thread in the first rounds; the clock runs from the first message until the last has
arrived on the other side (or the time-out). CPU is the workers' own, from /proc. The
pacing of Telegram (``telegram.limits``) and of Slack (``slack.pacing``) is lifted by its
setting, as in ``tandem bench load``. Everything listens on 127.0.0.1.

With ``kill_one_after``, one worker dies mid-run: after that round of customers' messages
it is taken out of the balancer (as its health check would) and killed (SIGKILL), then
started again on the same data folder a few seconds later; what it had journaled and not
handled is handled at its restart. The CPU counted then leaves out the killed process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import nlu_parts
from bot.bench.cpu import CpuMeter, CpuUnreadable
from bot.bench.errors import BenchError
from bot.bench.rasa import bare_rasa, current_model
from bot.bench.service import SIGNING_SECRET, ServiceProcess, Storage, bench_config
from bot.bench.storage import fresh_database, redis_prefix, run_name
from bot.bench.workers_report import Tally, WorkersRow
from bot.settings import Settings
from bot.simulators.balancer import Balancer
from bot.simulators.slack import Message, SlackSimulator, defaults, events
from bot.simulators.slack.sender import SlackEventSender
from bot.simulators.telegram import JsonDict, TelegramSimulator, telegram_user
from nlu.server import ManagedRasaServer
from nlu.vector_store import copy_vectors

Progress = Callable[[str], None]

WEBHOOK_PATH = "/telegram/webhook"
_WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - for the simulator only
_FIRST_CHAT = 710_000_001  # all chat ids have as many digits: "C710000001" names one card
_TAG = re.compile(r"\bc(\d+) m(\d+)\b")
_REPLY = re.compile(r"\breply (\d+) to c(\d+)\b")
_LOOK = 0.1  # seconds between looks at the simulators while waiting (a benchmark, not a test)
_EVENT_ATTEMPTS = 3  # Slack sends an event that was not acknowledged again, a few times
_EVENT_RETRY = 0.5
# Telegram posts a webhook's updates over up to 40 connections at once (setWebhook's
# max_connections, 40 by default): to several workers in parallel, not one at a time.
_TELEGRAM_CONNECTIONS = 40
_REPLAYED = re.compile(r"(\d+) event\(s\) from the intake journal")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkersOptions:
    workers: tuple[int, ...]  # a row for each
    messages: int = 300  # customers' messages in all, spread over the conversations
    conversations: int = 30
    replies: int = 2  # an agent's, per conversation
    timeout: float = 120.0  # seconds, per row: for the cards, then for every message
    kill_one_after: int = 0  # the round after which a worker is killed and restarted; 0: none
    restart_after: float = 3.0  # seconds from the kill to the restart (a lane waits up to 15)
    postgres: str
    redis: str
    name: str = field(default_factory=run_name)


async def run_workers(
    settings: Settings, options: WorkersOptions, *, progress: Progress
) -> list[WorkersRow]:
    parts = nlu_parts(settings)
    parts.environment.require_ready()  # before minutes of work, not after
    model = current_model(parts.store)
    folder = settings.data_dir / "bench" / options.name
    folder.mkdir(parents=True)
    rows: list[WorkersRow] = []
    rasa = bare_rasa(
        environment=parts.environment,
        model=model,
        directory=folder / "models",
        startup_timeout=settings.config.nlu.server.startup_timeout,
    )
    async with rasa:
        progress(f"one Rasa for all workers up on {model.name}")
        for count in options.workers:
            here = folder / f"{count}-workers"
            async with _workers(
                settings, options, count, here, rasa=_RasaFor(rasa, parts.environment.path)
            ) as world:
                progress(f"{count} workers up on PostgreSQL+Redis behind a balancer")
                rows.append(await _workload(world, options, progress=progress))
            progress(_done(rows[-1]))
    shutil.rmtree(folder, ignore_errors=True)  # kept when the run failed: the logs are there
    return rows


@dataclass(frozen=True, slots=True)
class _RasaFor:
    """The Rasa all workers share, and the Rasa environment (their config names one, unused)."""

    server: ManagedRasaServer
    environment: Path

    def variables(self) -> dict[str, str]:
        if self.server.url is None or self.server.token is None:
            raise BenchError("the Rasa server for the workers is not running")
        return {"RASA_URL": self.server.url, "RASA_TOKEN": self.server.token}


@dataclass(frozen=True, slots=True)
class _World:
    telegram: TelegramSimulator
    slack: SlackSimulator
    balancer: Balancer
    services: Sequence[ServiceProcess]

    def cpu(self) -> float:
        try:
            return CpuMeter.of(service.pid for service in self.services).seconds()
        except CpuUnreadable as exc:
            logs = ", ".join(str(service.log) for service in self.services)
            raise BenchError(f"a worker stopped during the run ({exc}); see {logs}") from exc


@contextlib.asynccontextmanager
async def _workers(
    settings: Settings,
    options: WorkersOptions,
    count: int,
    folder: Path,
    *,
    rasa: _RasaFor,
) -> AsyncIterator[_World]:
    name = f"{options.name}_{count}"
    async with (
        fresh_database(options.postgres, name) as database_url,
        redis_prefix(options.redis, name) as prefix,
        TelegramSimulator(webhook_connections=_TELEGRAM_CONNECTIONS) as telegram,
        SlackSimulator() as slack,
        Balancer() as balancer,
    ):
        storage = Storage(database_url=database_url, redis_url=options.redis, key_prefix=prefix)
        variables = {
            **rasa.variables(),
            "TELEGRAM_WEBHOOK_URL": balancer.url + WEBHOOK_PATH,
            "TELEGRAM_WEBHOOK_SECRET": _WEBHOOK_SECRET,
        }
        services = []
        for number in range(count):
            here = folder / f"worker-{number}"
            # The workers share one Rasa; their models folders keep the example vectors.
            copy_vectors(settings.models_dir, here / "models")
            config = bench_config(
                settings,
                folder=here,
                models=here / "models",
                rasa_environment=rasa.environment,
                storage=storage,
            )
            config["slack"]["pacing"] = None
            services.append(
                ServiceProcess(
                    config=config,
                    folder=here,
                    telegram=telegram,
                    slack=slack,
                    storage=storage,
                    startup_timeout=settings.config.nlu.server.startup_timeout + 60,
                    variables=variables,
                )
            )
        try:
            await asyncio.gather(*(service.start() for service in services))
            balancer.ports[:] = [service.port for service in services]
            yield _World(telegram, slack, balancer, services)
        finally:
            await asyncio.gather(*(service.stop() for service in services))


async def _workload(world: _World, options: WorkersOptions, *, progress: Progress) -> WorkersRow:
    chats = [_FIRST_CHAT + n for n in range(options.conversations)]
    for chat in chats:
        world.telegram.send_command(chat, "/human", user=_customer(chat))
    deadline = time.monotonic() + options.timeout
    await _until(lambda: len(_cards(world.slack, chats)), len(chats), deadline)
    cards = _cards(world.slack, chats)
    per = _spread(options.messages, options.conversations)
    sent = {chat: list(range(1, per[n] + 1)) for n, chat in enumerate(chats)}
    replied = {chat: list(range(1, options.replies + 1)) for chat in chats}
    agent = SlackEventSender(
        endpoint_url=world.balancer.url + "/slack/events",
        signing_secret=SIGNING_SECRET,
        response_url_base=world.slack.response_url_base,
    )
    cpu, started = world.cpu(), time.monotonic()
    restart: asyncio.Task[None] | None = None
    for m in range(1, max([*per, options.replies]) + 1):
        for n, chat in enumerate(chats):
            if m <= per[n]:
                world.telegram.send_text(chat, f"c{n} m{m}", user=_customer(chat))
        if m <= options.replies:
            await asyncio.gather(
                *(
                    _agent_reply(world.slack, agent, cards[chat], f"reply {m} to c{n}")
                    for n, chat in enumerate(chats)
                    if chat in cards
                )
            )
        if m == options.kill_one_after:  # the customers go on writing meanwhile
            restart = asyncio.create_task(_kill_and_restart(world, options, progress))
    if restart is not None:
        await restart
    expected = sum(per) + options.replies * len(chats)
    deadline = time.monotonic() + options.timeout
    await _until(lambda: _arrived(world, chats, cards), expected, deadline)
    seconds, cpu = time.monotonic() - started, world.cpu() - cpu
    shown, replies = _shown(world.slack, chats, cards), _replies(world.telegram, chats)
    return WorkersRow(
        workers=len(world.services),
        conversations=len(chats),
        handoffs=len(cards),
        customers=Tally.of(sent, shown),
        agents=Tally.of(replied, replies),
        seconds=seconds,
        cpu_seconds=cpu,
    )


async def _kill_and_restart(world: _World, options: WorkersOptions, progress: Progress) -> None:
    """One worker out of the balancer, killed, and started again on its data folder."""
    service = world.services[min(1, len(world.services) - 1)]
    world.balancer.ports.remove(service.port)
    killed = time.monotonic()
    await service.kill()
    await asyncio.sleep(options.restart_after)
    logged = service.log.stat().st_size
    await service.start()
    world.balancer.ports.append(service.port)
    found = _REPLAYED.search(service.log.read_bytes()[logged:].decode(errors="replace"))
    progress(
        f"  a worker killed (SIGKILL) and healthy again {time.monotonic() - killed:.1f} s "
        f"later, with {found[1] if found else 0} journaled event(s) to handle first"
    )


def _customer(chat: int) -> JsonDict:
    return telegram_user(chat, first_name=f"C{chat}")


async def _agent_reply(
    slack: SlackSimulator, sender: SlackEventSender, card_ts: str, text: str
) -> None:
    """An agent's reply in the thread, as Slack shows it and sends it to the app. One that
    no worker acknowledges is left at that: it is counted as lost."""
    channel, agent = defaults.AGENTS_CHANNEL_ID, defaults.ALICE_ID
    posted = slack.add_message(channel=channel, user=agent, text=text, thread_ts=card_ts)
    event = events.user_message_event(
        channel=channel, user=agent, text=text, ts=posted.ts, thread_ts=card_ts
    )
    for attempt in range(_EVENT_ATTEMPTS):
        answer = await sender.event_callback(event, retry_num=attempt or None)
        if answer.status < 300:
            return
        await asyncio.sleep(_EVENT_RETRY)


async def _until(count: Callable[[], int], expected: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if count() >= expected:
            return
        await asyncio.sleep(_LOOK)


def _spread(messages: int, conversations: int) -> list[int]:
    """How many messages each conversation's customer sends (as even as can be)."""
    return [
        messages // conversations + (n < messages % conversations) for n in range(conversations)
    ]


def _cards(slack: SlackSimulator, chats: Sequence[int]) -> dict[int, str]:
    """Per chat, the ``ts`` of its handoff's card (the thread's parent)."""
    found: dict[int, str] = {}
    for card in slack.messages_in(defaults.AGENTS_CHANNEL_ID):
        for chat in chats:
            if not card.is_reply and f"C{chat}" in (card.text or ""):
                found.setdefault(chat, card.ts)
    return found


def _shown(
    slack: SlackSimulator, chats: Sequence[int], cards: dict[int, str]
) -> dict[int, list[int]]:
    """Per chat, the numbers of its customer's messages in its thread, in the thread's order."""
    shown: dict[int, list[int]] = {}
    for n, chat in enumerate(chats):
        thread = slack.messages_in(defaults.AGENTS_CHANNEL_ID, cards[chat]) if chat in cards else []
        shown[chat] = [
            int(m) for reply in thread[1:] for c, m in _TAG.findall(_text(reply)) if int(c) == n
        ]
    return shown


def _text(message: Message) -> str:
    return "\n".join(
        block["text"]["text"]
        for block in message.blocks or []
        if block.get("type") == "section" and isinstance(block.get("text"), dict)
    )


def _replies(telegram: TelegramSimulator, chats: Sequence[int]) -> dict[int, list[int]]:
    return {
        chat: [
            int(r)
            for sent in telegram.messages_to(chat)
            for r, c in _REPLY.findall(sent.text)
            if int(c) == n
        ]
        for n, chat in enumerate(chats)
    }


def _arrived(world: _World, chats: Sequence[int], cards: dict[int, str]) -> int:
    shown, replies = _shown(world.slack, chats, cards), _replies(world.telegram, chats)
    return sum(len(set(numbers)) for numbers in (*shown.values(), *replies.values()))


def _done(row: WorkersRow) -> str:
    total = row.total
    return (
        f"  {row.workers} workers: {total.delivered}/{total.sent} delivered in "
        f"{row.seconds:.1f} s, {total.lost} lost"
    )
