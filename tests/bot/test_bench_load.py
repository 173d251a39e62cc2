"""``tandem bench load``: its statistics and table, the texts it sends, the virtual
customers against the real Telegram simulator, the setting that lifts Telegram's pacing,
and (marked rasa) a small run of the whole thing."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml
from pydantic import BaseModel
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.adapters.telegram.limiter import SendLimiter, SendLimits
from bot.bench.cpu import CpuMeter, cpu_seconds, descendants
from bot.bench.customers import (
    NO_REPLY,
    NOT_AN_ANSWER,
    Crowd,
    Customer,
    Inbox,
    closed_loops,
    each_takes,
)
from bot.bench.load import LoadOptions, run_load
from bot.bench.prefill import MESSAGES_EACH, prefill
from bot.bench.report import Backend, Report, Row, Sample, Window, report_json, table
from bot.bench.service import Storage, bench_config, child_environment
from bot.bench.storage import run_name
from bot.bench.texts import AnswerMatcher, Script, candidates, load_examples, variations
from bot.settings import load_settings, policy_config
from bot.simulators.telegram import TelegramSimulator
from handoff.policy import RECENT_TEXTS, PolicyConfig
from nlu.benchmark import Example
from tests.support.bench import assert_nothing_left, bench_settings

REPO = Path(__file__).resolve().parents[2]


# --- rows, the report, the table -----------------------------------------------------------


def _row(backend: Backend, concurrency: int, per_second: float, **errors: int) -> Row:
    samples = [Sample(0.010)] * int(per_second) + [
        Sample(None, error) for error, times in errors.items() for _ in range(times)
    ]
    window = Window(seconds=1.0, tandem_cpu=None if backend is Backend.RASA else 0.5, rasa_cpu=0.1)
    return Row.of(backend, concurrency, samples, window)


def test_a_row_counts_answers_errors_latency_and_cpu_per_message() -> None:
    samples = [Sample(seconds / 1000) for seconds in range(1, 101)] + [
        Sample(None, NO_REPLY),
        Sample(0.5, NOT_AN_ANSWER),
    ]
    row = Row.of(Backend.SQLITE, 8, samples, Window(seconds=2.0, tandem_cpu=0.51, rasa_cpu=0.204))
    assert (row.messages, row.answered, row.error_count) == (102, 100, 2)
    assert row.errors == {NO_REPLY: 1, NOT_AN_ANSWER: 1}
    assert row.per_second == 50.0  # answered messages only
    assert (row.p50_ms, row.p99_ms) == pytest.approx((50.0, 99.0))  # answered ones only
    assert row.tandem_cpu_ms == pytest.approx(5.0)  # 510 ms over 102 messages
    assert row.rasa_cpu_ms == pytest.approx(2.0)
    assert row.tandem_over_rasa == pytest.approx(2.5)  # the same parses: 5.0 over 2.0


def test_the_report_compares_each_row_with_bare_rasa_at_its_concurrency() -> None:
    rows = (
        _row(Backend.POSTGRES, 8, 60),
        _row(Backend.SQLITE, 1, 30, **{NO_REPLY: 2}),
        _row(Backend.RASA, 8, 300),
        _row(Backend.RASA, 1, 100),
        _row(Backend.SQLITE, 8, 50),
    )
    report = Report(rows=rows)
    ordered = [(row.concurrency, row.backend) for row in report.ordered()]
    assert ordered == [
        (1, Backend.RASA),
        (1, Backend.SQLITE),
        (8, Backend.RASA),
        (8, Backend.SQLITE),
        (8, Backend.POSTGRES),
    ]
    assert report.versus_rasa(rows[0]) == pytest.approx(0.2)
    assert report.versus_rasa(rows[1]) == pytest.approx(0.3)
    assert report.errors == 2


def test_the_table_has_a_header_a_line_per_row_and_the_errors_by_kind() -> None:
    report = Report(rows=(_row(Backend.RASA, 1, 100), _row(Backend.SQLITE, 1, 30, **{NO_REPLY: 2})))
    lines = table(report)
    assert lines[0].split()[:2] == ["chats", "backend"]
    assert "Tandem CPU ms/msg" in lines[0]
    assert lines[1].split() == [
        "1",
        "bare",
        "Rasa",
        "100.0",
        "10.0",
        "10.0",
        "-",
        "1.00",
        "-",
        "0",
        "-",
    ]
    assert lines[2].split() == [
        "1",
        "SQLite",
        "30.0",
        "10.0",
        "10.0",
        "15.62",
        "3.12",
        "5.00",
        "2",
        "0.30x",
    ]
    assert lines[3] == f"  SQLite, 1 chats: 2 x {NO_REPLY}"
    assert len({len(line) for line in lines[:3]}) == 1  # aligned


def test_the_json_report_has_every_row_with_its_ratio() -> None:
    report = Report(rows=(_row(Backend.RASA, 1, 100), _row(Backend.POSTGRES, 1, 25)))
    document = json.loads(report_json(report, settings={"messages": 125}))
    assert document["settings"] == {"messages": 125}
    bare, service = document["rows"]
    assert bare["backend"] == "rasa"
    assert bare["tandem_cpu_ms_per_message"] is None
    assert service["backend"] == "postgres"
    assert service["messages_per_second"] == 25.0
    assert service["vs_bare_rasa"] == 0.25
    assert bare["tandem_over_rasa_cpu"] is None
    assert service["tandem_over_rasa_cpu"] == 5.0  # 20 ms over 4 ms a message
    assert service["errors"] == 0


# --- CPU from /proc -----------------------------------------------------------------------


def test_cpu_seconds_grow_with_work_and_a_child_is_found() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(3_000_000))
    assert cpu_seconds(os.getpid()) > before
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in descendants(os.getpid())
        mine = cpu_seconds(os.getpid())
        assert CpuMeter.of([os.getpid(), child.pid]).seconds() >= mine
    finally:
        child.kill()
        child.wait()


# --- what the customers say -------------------------------------------------------------------


def test_examples_are_read_without_entity_markup(tmp_path: Path) -> None:
    (tmp_path / "orders.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "  - intent: order_status\n    examples: |\n"
        "      - where's my order [ORD-48213](order_id)\n"
        '      - status of [ORD-1]{"entity": "order_id"} please\n'
        "  - regex: order_id\n    examples: |\n      - ORD-\\d+\n",
        encoding="utf-8",
    )
    assert load_examples(tmp_path) == [
        Example("where's my order ORD-48213", "order_status"),
        Example("status of ORD-1 please", "order_status"),
    ]


def test_no_complaints_and_requests_for_a_person_are_never_sent() -> None:
    examples = [
        Example("no", "deny"),
        Example("this is awful", "complaint"),
        Example("escalate to support", "human_request"),
        Example("I want my money back", "refund_request"),
        Example("hi", "greet"),
    ]
    assert candidates(examples, PolicyConfig()) == [Example("hi", "greet")]


def test_no_customer_asks_the_same_intent_twice_in_a_row() -> None:
    examples = [
        Example(f"{intent} {n}", intent) for intent in "abc" for n in range(4 - len(intent))
    ]
    examples += [Example("d 0", "d"), Example("d 1", "d")]
    script = Script.of(examples)
    for customer in range(5):
        texts = script.feed()
        sent = [texts.text(customer) for _ in range(40)]
        intents = [text.split()[0] for text in sent]
        assert all(one != other for one, other in itertools.pairwise(intents))
        assert set(sent) == {example.text for example in examples}  # every text gets used
    with pytest.raises(ValueError, match="at least two intents"):
        Script.of([Example("hi", "greet"), Example("hello", "greet")])


def test_no_customer_gets_an_intent_of_its_last_few_texts_while_others_are_left() -> None:
    # Two wordings of one intent a few messages apart read as the customer repeating itself.
    examples = [Example(f"{intent} {n}", f"i{intent}") for intent in range(8) for n in range(30)]
    texts = Script.of(examples).feed()
    for customer in range(3):
        intents = [texts.text(customer).split()[0] for _ in range(40)]
        windows = [intents[at : at + RECENT_TEXTS + 1] for at in range(len(intents) - RECENT_TEXTS)]
        assert all(len(set(window)) == len(window) for window in windows)


def test_a_feed_sends_each_text_once_until_nearly_all_are_sent_then_says_it_repeats() -> None:
    sizes = (4, 6, 8, 12, 3, 20, 15, 9, 7, 10, 5, 11)  # uneven, as the shipped intents are
    examples = [
        Example(f"{intent} {n}", f"i{intent}")
        for intent, size in enumerate(sizes)
        for n in range(size)
    ]
    texts = Script.of(examples).feed()
    sent: list[str] = []
    while texts.repeated == 0:
        sent += [texts.text(customer) for customer in range(4)]
    first_round = sent[: len(sent) - texts.repeated]
    assert len(first_round) == len(set(first_round)) >= len(examples) - 2
    assert set(sent[len(first_round) :]) <= set(first_round)


def test_variations_keep_the_examples_first_and_never_repeat_a_text() -> None:
    examples = [Example("where is my order?", "order_status"), Example("hello", "greet")]
    texts = [example.text for example in variations(examples)]
    assert texts[:2] == ["where is my order?", "hello"]
    assert len(texts) == len(set(texts)) > 50
    assert "hi, where is my order please" in texts
    # Two wordings of one question are a whole round of the others apart.
    assert [example.intent for example in variations(examples)][:6] == ["order_status", "greet"] * 3


def test_the_bots_answers_are_recognised_with_their_placeholders() -> None:
    matcher = AnswerMatcher.from_file(REPO / "config" / "responses.yml")
    assert matcher(
        "Hi Customer! I'm the automated assistant of the support team. What can I help you with?"
    )
    assert matcher("Glad I could help. Is there anything else?")
    assert not matcher("Sorry, I didn't quite get that.")
    assert not matcher("Glad I could help.")


# --- the virtual customers, against the Telegram simulator ---------------------------------------

ANSWER = "Here is what to do: {steps}"


class ScriptedBot:
    """A bot of the test's own on the simulator's Bot API: answers each text with
    ``reply(text)``, or not at all for None."""

    def __init__(self, telegram: TelegramSimulator, reply: Callable[[str], str | None]) -> None:
        self._url = f"{telegram.api_url}/bot{telegram.token}"
        self._reply = reply
        self.chats: list[int] = []

    async def run(self) -> None:
        offset = 0
        async with httpx.AsyncClient(base_url=self._url, trust_env=False, timeout=10) as http:
            while True:
                answer = await http.post("/getUpdates", json={"offset": offset, "timeout": 5})
                for update in answer.json()["result"]:
                    offset = update["update_id"] + 1
                    message = update["message"]
                    self.chats.append(message["chat"]["id"])
                    reply = self._reply(message["text"])
                    if reply is not None:
                        body = {"chat_id": message["chat"]["id"], "text": reply}
                        await http.post("/sendMessage", json=body)


@pytest_asyncio.fixture
async def telegram() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


@contextlib.asynccontextmanager
async def customers_of(
    telegram: TelegramSimulator, reply: Callable[[str], str | None], count: int, timeout: float
) -> AsyncIterator[tuple[list[Customer], ScriptedBot]]:
    """``count`` customers, and the bot that answers them with ``reply``."""
    bot = ScriptedBot(telegram, reply)
    running = asyncio.create_task(bot.run())
    inbox = Inbox(telegram)
    inbox.start()
    script = Script.of([Example("reset my password", "a"), Example("where is my order", "b")])
    crowd = Crowd(
        telegram=telegram,
        inbox=inbox,
        texts=script.feed(),
        is_answer=AnswerMatcher([ANSWER]),
        timeout=timeout,
    )
    try:
        yield [Customer(crowd=crowd, number=n) for n in range(count)], bot
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await inbox.stop()


async def test_closed_loops_send_exactly_the_messages_asked_for(
    telegram: TelegramSimulator,
) -> None:
    async with customers_of(telegram, lambda _: ANSWER, 3, timeout=10.0) as (customers, bot):
        samples, seconds = await closed_loops(customers, 10)
    assert len(samples) == 10
    assert all(sample.answered for sample in samples)
    assert all(sample.seconds is not None and sample.seconds > 0 for sample in samples)
    assert seconds > 0
    assert len(set(bot.chats)) == 3


async def test_every_customer_takes_its_turns_before_the_measured_ones(
    telegram: TelegramSimulator,
) -> None:
    async with customers_of(telegram, lambda _: ANSWER, 3, timeout=10.0) as (customers, bot):
        samples = await each_takes(customers, 4)
    assert len(samples) == 12
    assert all(sample.answered for sample in samples)
    assert sorted(Counter(bot.chats).values()) == [4, 4, 4]


async def test_stored_conversations_are_closed_with_their_messages(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tandem.db'}"
    await prefill(url, 250)
    engine = create_async_engine(make_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            counts = [
                (await connection.execute(text(query))).scalar_one()
                for query in (
                    "SELECT count(*) FROM customers",
                    "SELECT count(*) FROM conversations WHERE mode = 'closed'",
                    "SELECT count(*) FROM messages",
                )
            ]
    finally:
        await engine.dispose()
    assert counts == [250, 250, 250 * MESSAGES_EACH]


async def test_a_reply_that_is_not_an_answer_is_an_error_and_the_customer_starts_over(
    telegram: TelegramSimulator,
) -> None:
    def reply(text: str) -> str:
        return "Sorry, could you say that differently?" if "password" in text else ANSWER

    async with customers_of(telegram, reply, 1, timeout=10.0) as (customers, bot):
        samples, _ = await closed_loops(customers, 3)
    assert [sample.error for sample in samples] == [NOT_AN_ANSWER, None, NOT_AN_ANSWER]
    assert len(set(bot.chats)) == 2  # a new chat after the first error


async def test_a_missing_reply_is_an_error(telegram: TelegramSimulator) -> None:
    async with customers_of(telegram, lambda _: None, 1, timeout=0.5) as (customers, _):
        samples, _ = await closed_loops(customers, 2)
    assert [sample.error for sample in samples] == [NO_REPLY, NO_REPLY]


# --- lifting Telegram's pacing by its setting ---------------------------------------------------


def test_telegrams_own_limits_are_the_default(tmp_path: Path) -> None:
    limits = load_settings(REPO / "config" / "tandem.yml", environ={}).config.telegram.limits
    assert (limits.per_chat_interval, limits.overall_per_second) == (1.0, 30.0)


async def test_the_benchs_config_lifts_the_pacing_and_is_valid_for_the_service(
    tmp_path: Path,
) -> None:
    operator = load_settings(REPO / "config" / "tandem.yml", environ={})
    config = bench_config(
        operator,
        folder=tmp_path,
        models=tmp_path / "models",
        rasa_environment=tmp_path / "rasa",
        storage=Storage(key_prefix="bench_x"),
    )
    path = tmp_path / "config" / "tandem.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.data_dir == tmp_path / "data"
    assert settings.models_dir == tmp_path / "models"
    assert settings.config.state.key_prefix == "bench_x"
    # Every file the operator's settings name is the same file from the other folder.
    assert settings.path(settings.config.conversation.responses_file) == operator.path(
        operator.config.conversation.responses_file
    )
    assert all(path.is_absolute() for path in _paths(settings.config))
    assert policy_config(settings.config.policy) == policy_config(operator.config.policy)
    limits = settings.config.telegram.limits
    limiter = SendLimiter(
        limits=SendLimits(
            per_chat_interval=limits.per_chat_interval,
            overall_per_second=limits.overall_per_second,
        )
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(100):  # paced, 100 messages to one chat would take 99 s
        await limiter.wait_turn(42)
    assert loop.time() - started < 5


def _paths(section: BaseModel) -> list[Path]:
    found: list[Path] = []
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            found += _paths(value)
        elif isinstance(value, Path):
            found.append(value)
    return found


def test_the_service_gets_only_the_settings_the_bench_gives_it() -> None:
    parent = {
        "PATH": "/usr/bin",
        "TELEGRAM_BOT_TOKEN": "1:real",
        "DATABASE_URL": "postgresql://prod",
        "REDIS_URL": "redis://prod",
        "RASA_URL": "http://rasa",
        "TANDEM_CONFIG": "/etc/tandem.yml",
        "https_proxy": "http://proxy",
        "HTTPS_PROXY": "http://proxy",
    }
    child = child_environment(parent, {"TELEGRAM_BOT_TOKEN": "2:simulated"})
    assert child == {"PATH": "/usr/bin", "TELEGRAM_BOT_TOKEN": "2:simulated"}


# --- a small run of the whole thing -----------------------------------------------------------


@pytest.mark.rasa
@pytest.mark.timeout(600)
async def test_a_small_run_has_every_row_and_no_errors(
    shipped_model: Path, tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    settings = bench_settings(shipped_model, tmp_path)
    options = LoadOptions(
        messages=10,
        concurrency=(1, 2),
        backends=(Backend.POSTGRES,),
        postgres=postgres_url,
        redis=redis_url,
        name=run_name(),
    )
    progress: list[str] = []
    report = await run_load(settings, options, progress=progress.append)

    assert [(row.backend, row.concurrency) for row in report.ordered()] == [
        (Backend.RASA, 1),
        (Backend.POSTGRES, 1),
        (Backend.RASA, 2),
        (Backend.POSTGRES, 2),
    ]
    for row in report.rows:
        assert row.errors == {}
        assert (row.messages, row.answered) == (10, 10)
        assert row.per_second > 0
        assert 0 < row.p50_ms <= row.p99_ms
        assert row.rasa_cpu_ms >= 0
    for row in report.rows:
        if row.backend is Backend.POSTGRES:
            assert row.tandem_cpu_ms is not None
            assert row.tandem_cpu_ms > 0
            assert (report.versus_rasa(row) or 0) > 0
    assert len(table(report)) == 5
    assert any("texts of" in line for line in progress)
    # Nothing is left behind: the run's folder, its database, its Redis keys.
    await assert_nothing_left(
        settings, options.name, postgres_url=postgres_url, redis_url=redis_url
    )
