"""``tandem bench load``: closed loops at several concurrencies, against bare Rasa and the
whole service on each backend, from one run.

Order: bare Rasa first (one server on a copy of the current model), then per backend one
service (a child process with its own managed Rasa on another copy) for every concurrency.
Each row starts with fresh customers, who warm up (their conversations begin, the
service's caches and connections fill) before the measured window: from the first
measured message sent to the last answer, with the CPU of the service and of its Rasa read
from /proc at both ends.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import nlu_parts, semantic_nlu
from bot.bench.cpu import CpuMeter
from bot.bench.customers import (
    Crowd,
    Customer,
    Inbox,
    RasaCustomer,
    Turn,
    closed_loops,
    each_takes,
)
from bot.bench.errors import BenchError
from bot.bench.prefill import prefill
from bot.bench.rasa import bare_rasa, current_model, private_store
from bot.bench.report import Backend, Report, Row, Sample, Window
from bot.bench.service import ServiceProcess, Storage, bench_config
from bot.bench.storage import fresh_database, redis_prefix, run_name
from bot.bench.texts import (
    AnswerMatcher,
    Feed,
    Script,
    answered,
    candidates,
    load_examples,
    policy_judge,
    variations,
)
from bot.meaning import frustration_encoder
from bot.settings import Settings, policy_config
from bot.simulators.slack import SlackSimulator
from bot.simulators.telegram import TelegramSimulator
from handoff.policy import FrustrationDetector
from nlu.benchmark import Example, parse_all
from nlu.environment import RasaEnvironment
from nlu.server import ManagedRasaServer

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
_MIN_WARMUP = 30  # messages: the first row of a fresh service needs a few more


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOptions:
    messages: int  # measured, per row
    concurrency: tuple[int, ...]
    backends: tuple[Backend, ...]  # of the service; bare Rasa always runs
    warmup: int = 3  # messages per customer before measuring
    turns_before: int = 0  # if more: turns every customer takes before measuring
    stored: int = 0  # closed conversations stored before each service starts
    timeout: float = 10.0  # seconds for each answer
    postgres: str
    redis: str
    # Names the run's folder (under the data folder), database and Redis key prefix.
    name: str = field(default_factory=run_name)

    def described(self) -> dict[str, object]:
        """What the run was asked to do, for the JSON report (no server URLs)."""
        return {
            "messages": self.messages,
            "concurrency": list(self.concurrency),
            "backends": [backend.value for backend in self.backends],
            "warmup_per_chat": self.warmup,
            "turns_before": self.turns_before,
            "stored_conversations": self.stored,
            "timeout": self.timeout,
            "cpus": os.cpu_count(),
        }


async def run_load(settings: Settings, options: LoadOptions, *, progress: Progress) -> Report:
    parts = nlu_parts(settings)
    parts.environment.require_ready()  # before minutes of work, not after
    model = current_model(parts.store)
    folder = settings.data_dir / "bench" / options.name
    folder.mkdir(parents=True)
    run = _Run(settings, options, parts.environment, model, folder, progress)
    rows: list[Row] = []
    async with run.bare_rasa() as rasa:
        progress(f"bare Rasa up on {model.name}")
        script = await _script(settings, rasa, _texts_needed(options), progress)
        texts = script.feed()
        for concurrency in options.concurrency:
            rows.append(await _bare_row(rasa, texts, concurrency, options))
            progress(_done(rows[-1]))
        async with _simulators() as (telegram, slack):
            for backend in options.backends:
                async with run.service(backend, telegram, slack) as service:
                    texts = script.feed()  # the same texts as bare Rasa's, each once
                    for concurrency in options.concurrency:
                        rows.append(
                            await _service_row(
                                backend,
                                service=service,
                                crowd=run.crowd(telegram, texts),
                                concurrency=concurrency,
                                options=options,
                            )
                        )
                        progress(_done(rows[-1]))
                    _say_repeats(texts, backend, progress)
    shutil.rmtree(folder, ignore_errors=True)  # kept when the run failed: the logs are there
    return Report(rows=tuple(rows))


@dataclass(frozen=True, slots=True)
class _Run:
    """What every part of one run shares, and how it builds them."""

    settings: Settings
    options: LoadOptions
    environment: RasaEnvironment
    model: Path
    folder: Path
    progress: Progress

    @property
    def startup_timeout(self) -> float:
        return self.settings.config.nlu.server.startup_timeout

    def bare_rasa(self) -> ManagedRasaServer:
        return bare_rasa(
            environment=self.environment,
            model=self.model,
            directory=self.folder / "models-bare",
            startup_timeout=self.startup_timeout,
        )

    @contextlib.asynccontextmanager
    async def service(
        self, backend: Backend, telegram: TelegramSimulator, slack: SlackSimulator
    ) -> AsyncIterator[ServiceProcess]:
        """The service on ``backend``, with a managed Rasa on a copy of the model."""
        here = self.folder / backend.value
        async with _storage(backend, self.options) as storage:
            config = bench_config(
                self.settings,
                folder=here,
                models=private_store(self.model, here / "models").directory,
                rasa_environment=self.environment.path,
                storage=storage,
            )
            if self.options.stored:
                await prefill(storage.database_url or _embedded_database(here), self.options.stored)
                self.progress(f"{self.options.stored} conversations stored on {backend.label}")
            service = ServiceProcess(
                config=config,
                folder=here,
                telegram=telegram,
                slack=slack,
                storage=storage,
                startup_timeout=self.startup_timeout + 60,
            )
            async with service:
                self.progress(f"the service is up on {backend.label} (pid {service.pid})")
                yield service

    def crowd(self, telegram: TelegramSimulator, texts: Feed) -> Crowd:
        responses = self.settings.path(self.settings.config.conversation.responses_file)
        return Crowd(
            telegram=telegram,
            inbox=Inbox(telegram),
            texts=texts,
            is_answer=AnswerMatcher.from_file(responses),
            timeout=self.options.timeout,
        )


async def _script(
    settings: Settings, rasa: ManagedRasaServer, needed: int, progress: Progress
) -> Script:
    """``needed`` different texts the bot answers with their own intent as a first message:
    the held-out examples, the training examples, then their variations, checked in that
    order until there are enough (or none are left)."""
    policy = policy_config(settings.config.policy)
    folders = (settings.nlu_dir / "test_data", settings.nlu_dir / "data")
    examples = candidates([e for folder in folders for e in load_examples(folder)], policy)
    if not examples:
        raise BenchError(f"no examples to send in {' or '.join(map(str, folders))}")
    # Checked through the parser the service uses (Rasa re-ranked by the embedding model,
    # with each parse's nearest-example similarity), or texts the scope score fails would be
    # counted as errors ("not a bot answer").
    parser = semantic_nlu(settings, rasa, model=rasa.loaded_model)
    # The service's frustration detector, meaning head included: the words model alone
    # passed texts the service reads as frustrated.
    judge = policy_judge(
        policy, FrustrationDetector(policy.frustration, encoder=frustration_encoder())
    )
    unchecked = variations(examples)
    kept: list[Example] = []
    tried = 0
    while len(kept) < needed:
        # As many as the share answered so far says are missing, and a few more.
        share = len(kept) / tried if tried else 1.0
        batch = list(itertools.islice(unchecked, int((needed - len(kept)) / max(share, 0.2)) + 20))
        if not batch:
            break
        parsed, _ = await parse_all(parser, batch, concurrency=4)
        kept += answered(parsed, judge)
        tried += len(batch)
        progress(f"checked {tried} texts: {len(kept)} of {needed} the bot answers")
    script = Script.of(kept)
    progress(
        f"{script.size} different texts of {len(script.by_intent)} intents the bot answers "
        f"(of {tried} tried: the examples in {' and '.join(map(str, folders))}, then the "
        "same with a greeting or courtesy); each process under test gets each text once"
    )
    return script


def _texts_needed(options: LoadOptions) -> int:
    """The texts one process under test is sent: every row's warm-up and measured ones."""
    per_row = (
        options.messages + max(_warmup(concurrency, options), options.turns_before * concurrency)
        for concurrency in options.concurrency
    )
    return sum(per_row)


def _say_repeats(texts: Feed, backend: Backend, progress: Progress) -> None:
    if texts.repeated:
        progress(
            f"  {backend.label}: {texts.repeated} texts were sent a second time (the script "
            "ran out): their encoder work may have been a cache hit"
        )


async def _bare_row(
    rasa: ManagedRasaServer, texts: Feed, concurrency: int, options: LoadOptions
) -> Row:
    pid = rasa.pid
    if pid is None:
        raise BenchError("the bare Rasa server is not running")
    clients = [RasaCustomer(parser=rasa, texts=texts, number=n) for n in range(concurrency)]
    await closed_loops(clients, _warmup(concurrency, options))
    return await _measured(Backend.RASA, clients, options, tandem=None, rasa=CpuMeter.of([pid]))


async def _service_row(
    backend: Backend,
    *,
    service: ServiceProcess,
    crowd: Crowd,
    concurrency: int,
    options: LoadOptions,
) -> Row:
    crowd.inbox.start()
    try:
        customers = [Customer(crowd=crowd, number=n) for n in range(concurrency)]
        if options.turns_before > options.warmup:
            warm = await each_takes(customers, options.turns_before)
        else:
            warm, _ = await closed_loops(customers, _warmup(concurrency, options))
        _check_warm(warm, backend, service)
        return await _measured(
            backend,
            customers,
            options,
            tandem=CpuMeter.of([service.pid]),
            rasa=CpuMeter.of(service.rasa_pids()),
        )
    finally:
        await crowd.inbox.stop()


async def _measured(
    backend: Backend,
    customers: Sequence[Turn],
    options: LoadOptions,
    *,
    tandem: CpuMeter | None,
    rasa: CpuMeter,
) -> Row:
    tandem_before = tandem.seconds() if tandem else 0.0
    rasa_before = rasa.seconds()
    samples, seconds = await closed_loops(customers, options.messages)
    window = Window(
        seconds=seconds,
        tandem_cpu=tandem.seconds() - tandem_before if tandem else None,
        rasa_cpu=rasa.seconds() - rasa_before,
    )
    return Row.of(backend, len(customers), samples, window)


def _embedded_database(folder: Path) -> str:
    """The service's SQLite database in ``folder`` (bench_config puts its data there)."""
    return f"sqlite+aiosqlite:///{folder / 'data' / 'tandem.db'}"


def _warmup(concurrency: int, options: LoadOptions) -> int:
    return max(options.warmup * concurrency, _MIN_WARMUP)


def _check_warm(samples: Sequence[Sample], backend: Backend, service: ServiceProcess) -> None:
    """A service that answers nothing would only run into every time-out: stop instead."""
    if samples and not any(sample.answered for sample in samples):
        kinds = sorted({sample.error or "" for sample in samples})
        raise BenchError(
            f"the service on {backend.label} answered none of {len(samples)} warm-up "
            f"messages ({', '.join(kinds)}); see {service.log}"
        )


def _done(row: Row) -> str:
    return (
        f"  {row.backend.label}, {row.concurrency} chats: {row.per_second:.1f} msg/s, "
        f"{row.error_count} errors"
    )


@contextlib.asynccontextmanager
async def _simulators() -> AsyncIterator[tuple[TelegramSimulator, SlackSimulator]]:
    async with TelegramSimulator() as telegram, SlackSimulator() as slack:
        yield telegram, slack


@contextlib.asynccontextmanager
async def _storage(backend: Backend, options: LoadOptions) -> AsyncIterator[Storage]:
    if backend is Backend.SQLITE:
        yield Storage(key_prefix=options.name)
        return
    async with (
        fresh_database(options.postgres, options.name) as database_url,
        redis_prefix(options.redis, options.name) as prefix,
    ):
        yield Storage(database_url=database_url, redis_url=options.redis, key_prefix=prefix)
