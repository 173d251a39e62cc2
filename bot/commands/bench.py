"""``tandem bench``: benchmarks on public data sets, and the whole service under load.
Slow-ish, and not part of the tests.

Each benchmark is declared here in a few lines: its options, its run (in :mod:`bot.bench`,
imported when it runs: ``tandem bench --help`` needs none of it) and how its rows print,
as a table or with ``--json`` (:func:`_show`). The options several share are defined once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from nlu.encoders import DEFAULT_ENCODER, ENCODER_NAMES

_ROOT = Path(__file__).resolve().parents[2]
# The shared data sets sit beside the checkout (see ../shared/data/README.md).
_SHARED_DATA = _ROOT.parent / "shared" / "data"
_GOEMOTIONS = _SHARED_DATA / "goemotions" / "dev.tsv"
_CLINC150 = _SHARED_DATA / "clinc150" / "clinc150_train_val.json"
_BANKING77 = _SHARED_DATA / "banking77" / "train.csv"
_SHIPPED_PIPELINE = _ROOT / "nlu" / "config.yml"
_TEST_DATA = _ROOT / "nlu" / "test_data"
# The servers the networked benchmarks borrow: the local ones the tests use.
_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_REDIS = "redis://127.0.0.1:6379/0"

Rows = TypeVar("Rows")
Command = TypeVar("Command", bound=Callable[..., Any])


@click.group(short_help="Benchmarks: public data sets, the service under load (not tests).")
def bench() -> None:
    """Benchmarks of the bot's parts on public data sets (not part of the tests)."""


# --- what several benchmarks share -----------------------------------------------------------


def _show(
    rows: Rows,
    *,
    as_json: bool,
    table: Callable[[Rows], Iterable[str]],
    as_dicts: Callable[[Rows], Any],
    gap: bool = False,
) -> None:
    """The rows as JSON with ``--json``, else as a table (after an empty line with ``gap``)."""
    if as_json:
        echo(json.dumps(as_dicts(rows), indent=2))
        return
    if gap:
        echo("")
    _lines(table(rows))


def _lines(lines: Iterable[str]) -> None:
    for line in lines:
        echo(line)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _counts(
    what: str, example: str
) -> Callable[[click.Context, click.Parameter, str | None], tuple[int, ...]]:
    """A callback reading ``what`` (whole numbers of at least 1), comma-separated."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...]:
        if value is None:
            return ()
        try:
            levels = tuple(int(part) for part in value.split(","))
        except ValueError:
            raise click.BadParameter(
                f"expected whole numbers separated by commas, e.g. {example}"
            ) from None
        if not levels or min(levels) < 1:
            raise click.BadParameter(f"expected {what} of at least 1, e.g. {example}")
        return levels

    return parse


def _backends(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(set(names) - {"sqlite", "postgres"})
    if unknown or not names:
        got = ", ".join(unknown) or repr(value)
        raise click.BadParameter(f"expected sqlite and/or postgres, comma-separated (got {got})")
    return names


def _count(
    name: str, default: int, help_text: str, *, least: int = 1
) -> Callable[[Command], Command]:
    """A whole-number option with its default shown."""
    return click.option(
        name, type=click.IntRange(min=least), default=default, show_default=True, help=help_text
    )


def _file(name: str, help_text: str, **more: Any) -> Callable[[Command], Command]:
    """An option naming an existing file."""
    return click.option(
        name, type=click.Path(path_type=Path, dir_okay=False, exists=True), help=help_text, **more
    )


def _data_set(default: Path, envvar: str, help_text: str) -> Callable[[Command], Command]:
    """``--data``: a shared data set's file (need not exist: the loader says what is wrong)."""
    return click.option(
        "--data",
        type=click.Path(path_type=Path, dir_okay=False),
        default=default,
        show_default=True,
        envvar=envvar,
        help=help_text,
    )


# The Rasa pipeline a data-set benchmark trains, and where it keeps its parses.
_PIPELINE = click.option(
    "--config",
    "config_file",
    # Absolute: Rasa trains in a staging folder of its own, where a relative path breaks.
    type=click.Path(path_type=Path, dir_okay=False, exists=True, resolve_path=True),
    default=_SHIPPED_PIPELINE,
    show_default=True,
    help="The Rasa pipeline to train.",
)
_PARSES = click.option(
    "--parses",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the parses from this file if it exists (no Rasa at all); else write them there.",
)
_ENCODER = click.option(
    "--encoder",
    type=click.Choice(ENCODER_NAMES),
    default=DEFAULT_ENCODER,
    show_default=True,
    help="The sentence encoder of the embedding model (nlu.encoder).",
)
_BACKENDS = click.option(
    "--backends",
    callback=_backends,
    default="sqlite,postgres",
    show_default=True,
    help="sqlite: the embedded default; postgres: PostgreSQL + Redis.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")


def _servers(command: Command) -> Command:
    """--postgres and --redis: the servers a benchmark on PostgreSQL + Redis borrows."""
    command = click.option(
        "--redis",
        default=_REDIS,
        show_default=True,
        help="A Redis server; the run's keys get a prefix of their own and are removed after.",
    )(command)
    return click.option(
        "--postgres",
        default=_POSTGRES,
        show_default=True,
        help="A PostgreSQL server where the run may create (and drop) a database of its own.",
    )(command)


# --- public data sets ------------------------------------------------------------------------


@bench.command()
@_file(
    "--data",
    "GoEmotions TSV (text, label ids, id); emotions.txt must sit beside it.",
    default=_GOEMOTIONS,
    show_default=True,
    envvar="TANDEM_GOEMOTIONS",
)
@explained
def frustration(data: Path) -> None:
    """The frustration detector on GoEmotions, against VADER alone.

    Frustrated = labelled anger, annoyance, disappointment, disapproval or disgust.
    """
    from bot.bench.frustration import frustration_report  # noqa: PLC0415 - only here

    frustration_report(data, echo)


@bench.command(short_help="The sentence encoder's CPU per message, fp32 against int8.")
@_data_set(
    _CLINC150,
    "TANDEM_CLINC150",
    "CLINC150's data_full.json layout: {split: [[text, intent], ...]}.",
)
@_count("--texts", 3000, "How many val queries to encode (the first N).")
@explained
def minilm(data: Path, texts: int) -> None:
    """all-MiniLM-L6-v2 with its layers' weights in fp32 and in int8 (as the service runs
    it), side by side: the CPU of one short message (p50, p95) on CLINC150's val queries,
    each encoded alone, the load time, and the cosine of the int8 vectors to the fp32 ones.
    """
    from bot.bench.minilm import minilm_report  # noqa: PLC0415 - only here

    minilm_report(data, texts, echo)


@bench.command(short_help="Personal-data detection on the shipped labelled set.")
@_file("--data", "A labelled JSON-lines file (default: the set shipped in handoff/privacy/data).")
@click.option("--misses", is_flag=True, help="List the messages it got wrong.")
@pass_cli
@explained
def pii(cli: CliContext, data: Path | None, misses: bool) -> None:
    """Precision and recall per kind of personal data, with the settings' detectors."""
    from bot.bench.pii import report_lines, run_pii_bench  # noqa: PLC0415 - only here
    from bot.settings import privacy_scanner  # noqa: PLC0415 - only here
    from handoff.privacy.evaluation import SHIPPED_SET  # noqa: PLC0415 - only here

    report = run_pii_bench(privacy_scanner(cli.settings.config.privacy), data or SHIPPED_SET)
    _lines(report_lines(report, show_misses=misses))


@bench.command(short_help="Intent accuracy on Banking77's held-out fifth (trains: minutes).")
@_data_set(_BANKING77, "TANDEM_BANKING77", "Banking77's train.csv (text,category).")
@_PIPELINE
@_PARSES
@_ENCODER
@explained
def banking77(**options: Any) -> None:
    """Banking77: trains the pipeline on four fifths of each intent's examples (a fixed
    split), parses the held-out fifth, and reports the accuracy of Rasa alone and re-ranked
    by the embedding model, with the training time.
    """
    from bot.bench.banking77 import BankingOptions, run_banking77  # noqa: PLC0415 - only here

    run_async(run_banking77(BankingOptions(**options), echo))


@bench.command(short_help="Out-of-scope queries on CLINC150 (trains a model: minutes).")
@_data_set(
    _CLINC150,
    "TANDEM_CLINC150",
    "CLINC150's data_full.json layout: {split: [[text, intent], ...]}.",
)
@_PIPELINE
@click.option(
    "--keep-model",
    type=click.Path(path_type=Path, file_okay=False),
    help="Copy the trained model into this folder (default: thrown away).",
)
@click.option(
    "--per-intent",
    type=click.IntRange(min=1),
    help="Train on at most N examples of each intent (default: all), for a quicker run.",
)
@_file("--model", "Parse with this model (one --keep-model kept) instead of training one.")
@_PARSES
@_ENCODER
@explained
def oos(**options: Any) -> None:
    """Out-of-scope queries on CLINC150: refused by the policy, while in-scope ones are answered?

    Trains the pipeline on CLINC150's train split plus oos_train (as out_of_scope), parses
    val and oos_val with a real Rasa server, and replays each parse through the policy as a
    customer's first message.
    """
    from bot.bench.oos import OosOptions, run_oos  # noqa: PLC0415 - only here

    run_async(run_oos(OosOptions(**options), echo))


@bench.command(short_help="The shipped model and policy on held-out, off-topic and mashed texts.")
@_file(
    "--goemotions",
    "Out-of-domain texts: GoEmotions' dev split (Reddit comments).",
    default=_GOEMOTIONS,
    show_default=True,
)
@_count("--out-of-domain", 1000, "How many of its comments to parse (the first N).")
@_file("--model", "The model to parse with (default: the current one).")
@pass_cli
@explained
def intents(cli: CliContext, goemotions: Path, out_of_domain: int, model: Path | None) -> None:
    """The shipped NLU model with the policy, before issue 9's rules and as configured:
    held-out examples (nlu/test_data) answered with the right intent; Reddit comments
    handed off at once as a human-only topic, or answered; generated keyboard mashing
    answered; what one policy decision costs (p50), and the whole decision with Rasa's
    parse; Rasa alone and re-ranked by the embedding model of the shipped examples.
    """
    from bot.app import semantic_model  # noqa: PLC0415 - only here
    from bot.bench.intents import (  # noqa: PLC0415 - only here
        SemanticParserSetup,
        measure,
        parse_sets,
        table,
        with_embeddings,
    )
    from bot.bench.oos import before_issue_9  # noqa: PLC0415 - only here
    from bot.meaning import frustration_encoder  # noqa: PLC0415 - only here
    from bot.settings import policy_config  # noqa: PLC0415 - only here

    semantic = semantic_model(cli.settings)
    rasa_weight = cli.settings.config.nlu.tuning.rasa_weight
    *sets, served = run_async(
        parse_sets(
            cli.settings,
            test_data=_TEST_DATA,
            goemotions=goemotions,
            out_of_domain=out_of_domain,
            model=model,
            progress=_progress,
            semantic=None if semantic is None else SemanticParserSetup(semantic, rasa_weight),
        )
    )
    parsed = (sets[0], sets[1], sets[2])
    config = policy_config(cli.settings.config.policy)
    rows = [
        measure("before issue 9 (Rasa alone)", before_issue_9(config), parsed),
        measure("as configured, Rasa alone", config, parsed),
    ]
    if semantic is not None:
        embedded = with_embeddings(parsed, semantic, rasa_weight, served)
        # The service's detector reads with the NLU's encoder (its meaning head).
        reader = frustration_encoder()
        rows.append(measure("as configured, with embeddings", config, embedded, encoder=reader))
    _lines(table(rows))


# --- the whole service under load -----------------------------------------------------------


@bench.command(short_help="The whole service under load, against bare Rasa (minutes).")
@click.option(
    "--messages",
    type=click.IntRange(min=1),
    help="Measured messages per row, after the warm-up (default 1000); with --workers: "
    "customers' messages in all (default 300).",
)
@click.option(
    "--concurrency",
    callback=_counts("concurrencies", "1,8,32"),
    default="1,8,32",
    show_default=True,
    help="Concurrent chats (closed loops), comma-separated.",
)
@_BACKENDS
@_JSON
@_count(
    "--turns-before",
    0,
    "Turns every chat has had before the measured ones (0: the usual short warm-up).",
    least=0,
)
@_count(
    "--stored",
    0,
    "Closed conversations (4 messages each) stored before the service starts.",
    least=0,
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to wait for each answer, a missing one is an error (default 10); with "
    "--workers: for all the cards, then for every message to arrive (default 120).",
)
@click.option(
    "--workers",
    callback=_counts("workers", "1,3"),
    help="Instead: N `tandem run` workers on PostgreSQL + Redis in webhook mode behind a "
    "round-robin balancer, with handoffs and agents' replies; comma-separated to compare.",
)
@_count("--conversations", 30, "With --workers: handed-off conversations.")
@_count("--replies", 2, "With --workers: an agent's replies per conversation.", least=0)
@_count(
    "--kill-one-after",
    0,
    "With --workers: after this round of customers' messages one worker is killed "
    "(SIGKILL) and restarted on its data folder 3 s later (0: none).",
    least=0,
)
@_servers
@pass_cli
@explained
def load(cli: CliContext, /, *, workers: tuple[int, ...], **options: Any) -> None:
    """The whole service against the Telegram and Slack simulators, and a bare Rasa on the
    same model, in closed loops: each chat sends a message, waits for the answer, sends the
    next.

    One row per backend and concurrency: answered messages a second, p50/p99 latency
    from the simulator receiving the customer's update to it receiving the bot's answer,
    CPU milliseconds per message of the service's process and of its Rasa (from /proc),
    the first over the second (the same parses: steadier than either on a shared machine),
    errors (a missing answer, or a reply that is not a bot answer) and the throughput as a
    share of bare Rasa's. Telegram's pacing is lifted with its setting, telegram.limits. Linux only.

    With --workers N: N `tandem run` processes on PostgreSQL + Redis sharing one Rasa, in
    webhook mode behind a round-robin balancer on 127.0.0.1; customers hand off, then write
    while an agent replies in every thread. One row per N: delivered, lost (every missing
    message or reply), duplicated, out of order, seconds to drain, messages a second and
    CPU ms per message of all workers together (from /proc). Slack's pacing is lifted too
    (slack.pacing).
    """
    if workers:
        _load_workers(cli, workers, **options)
    else:
        _load_closed_loops(cli, **options)


def _load_closed_loops(
    cli: CliContext,
    *,
    messages: int | None,
    concurrency: tuple[int, ...],
    backends: tuple[str, ...],
    as_json: bool,
    timeout: float | None,
    **options: Any,
) -> None:
    _refuse_the_other_kind(
        options, "conversations", "replies", "kill_one_after", with_workers=False
    )
    # Imported here: the whole service, which `tandem bench --help` does not need.
    from bot.bench.load import LoadOptions, run_load  # noqa: PLC0415
    from bot.bench.report import Backend, report_dict, table  # noqa: PLC0415

    run = LoadOptions(
        messages=messages or 1000,
        concurrency=concurrency,
        backends=tuple(Backend(name) for name in backends),
        turns_before=options["turns_before"],
        stored=options["stored"],
        timeout=timeout or 10.0,
        postgres=options["postgres"],
        redis=options["redis"],
    )
    report = run_async(run_load(cli.settings, run, progress=_progress))
    described = run.described()
    _show(
        report,
        as_json=as_json,
        table=table,
        as_dicts=lambda rows: report_dict(rows, settings=described),
        gap=True,
    )


def _load_workers(
    cli: CliContext,
    workers: tuple[int, ...],
    *,
    messages: int | None,
    as_json: bool,
    timeout: float | None,
    **options: Any,
) -> None:
    _refuse_the_other_kind(
        options, "concurrency", "backends", "turns_before", "stored", with_workers=True
    )
    from bot.bench.workers import WorkersOptions, run_workers  # noqa: PLC0415
    from bot.bench.workers_report import as_dicts, table  # noqa: PLC0415

    run = WorkersOptions(
        workers=workers,
        messages=messages or 300,
        conversations=options["conversations"],
        replies=options["replies"],
        kill_one_after=options["kill_one_after"],
        timeout=timeout or 120.0,
        postgres=options["postgres"],
        redis=options["redis"],
    )
    rows = run_async(run_workers(cli.settings, run, progress=_progress))
    _show(rows, as_json=as_json, table=table, as_dicts=as_dicts, gap=True)


def _refuse_the_other_kind(options: dict[str, Any], *names: str, with_workers: bool) -> None:
    """An option of the other kind of run, given anyway: one clear line, not ignored."""
    ctx = click.get_current_context()
    for name in names:
        if name in options and ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
            flag = "--" + name.replace("_", "-")
            applies = "does not apply with" if with_workers else "applies only with"
            raise click.UsageError(f"{flag} {applies} --workers")


# --- what an agent's reply costs ------------------------------------------------------------


@bench.command("agent-reply", short_help="Transactions, statements, CPU per agent reply.")
@_count(
    "--handoffs", 30, "Handoffs measured per backend (each: the first reply, then --replies more)."
)
@_count("--replies", 4, "Later replies per handoff, after the first.")
@_BACKENDS
@_JSON
@_servers
@pass_cli
@explained
def agent_reply(
    cli: CliContext, /, *, backends: tuple[str, ...], as_json: bool, **options: Any
) -> None:
    """What an agent's reply costs the core, in this process with the real storage and live
    state and a recording Slack and Telegram: per first reply (the agent takes the handoff
    by replying and is introduced) and per later reply, the database transactions and
    statements, statements reading the conversation row, reads of the recent messages,
    CPU milliseconds, and project function calls (cProfile, on 3 more handoffs).
    """
    from bot.bench.agent import as_dicts, measure, table  # noqa: PLC0415

    rows = [run_async(measure(cli.settings, backend=name, **options)) for name in backends]
    _show(rows, as_json=as_json, table=table, as_dicts=as_dicts)


# --- Slack's per-channel limit ----------------------------------------------------------------


@bench.command("slack-burst", short_help="A burst of customer messages into one agent channel.")
@_count("--messages", 200, "Customer messages in the burst.")
@_count("--conversations", 50, "Handed-off conversations sharing the agent channel.")
@_BACKENDS
@click.option(
    "--pacing",
    type=click.Choice(["on", "off", "both"]),
    default="on",
    show_default=True,
    help="Tandem's Slack pacing (slack.pacing); off: posts go at once, 429s are waited out.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for every message to be in Slack.",
)
@_JSON
@_servers
@pass_cli
@explained
def slack_burst(
    cli: CliContext, /, *, backends: tuple[str, ...], pacing: str, as_json: bool, **options: Any
) -> None:
    """A burst of customer messages into handed-off conversations in one agent channel,
    against the Slack simulator answering 429 above one post a second per channel (bursts
    of 3): the real core and Slack desk in this process. Per backend: delivered, lost,
    duplicated, out of order, posts, 429s, seconds until all are in Slack, messages a
    second and CPU ms per message.
    """
    from bot.bench.slack_burst import BurstOptions, as_dicts, run_burst, table  # noqa: PLC0415

    modes = {"on": (True,), "off": (False,), "both": (False, True)}[pacing]
    runs = [
        BurstOptions(backend=backend, pacing=paced, **options)
        for backend in backends
        for paced in modes
    ]
    results = [run_async(run_burst(cli.settings, run)) for run in runs]
    _show(results, as_json=as_json, table=table, as_dicts=as_dicts)
