"""``tandem bench``: benchmarks on public data sets, and the whole service under load.
Slow-ish, and not part of the tests."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import click

from bot.bench.rasa import private_store
from bot.bench.texts import policy_judge, policy_turn_judge
from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from handoff.policy import PolicyConfig
from handoff.policy.benchmark import (
    VADER_NEGATIVE,
    Scored,
    at_threshold,
    load_goemotions,
    score_texts,
    sweep,
    vader_only,
)
from handoff.policy.config import FrustrationConfig
from handoff.policy.frustration import FrustrationDetector
from handoff.policy.metrics import BinaryScore, auroc, ratio
from nlu.benchmark import (
    Example,
    Parsed,
    intent_accuracy,
    judge_all,
    load_clinc150,
    oos_pairs,
    parse_all,
    read_parses,
    training_examples,
    two_turn_handoffs,
    write_parses,
    write_training_data,
)
from nlu.environment import RasaEnvironment, default_environment_path
from nlu.models import ModelStore
from nlu.server import ManagedRasaServer
from nlu.training import Progress, train_model

# The shared data sets sit beside the checkout (see ../shared/data/README.md).
_SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# The servers the load benchmark borrows: the local ones the tests use.
_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_REDIS = "redis://127.0.0.1:6379/0"


@click.group(short_help="Benchmarks: public data sets, the service under load (not tests).")
def bench() -> None:
    """Benchmarks of the bot's parts on public data sets (not part of the tests)."""


@bench.command()
@click.option(
    "--data",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=_SHARED_DATA / "goemotions" / "dev.tsv",
    show_default=True,
    envvar="TANDEM_GOEMOTIONS",
    help="GoEmotions TSV (text, label ids, id); emotions.txt must sit beside it.",
)
@explained
def frustration(data: Path) -> None:
    """The frustration detector on GoEmotions, against VADER alone.

    Frustrated = labelled anger, annoyance, disappointment, disapproval or disgust.
    """
    texts = load_goemotions(data)
    config = FrustrationConfig()
    scored = score_texts(texts, FrustrationDetector(config))
    positives = sum(1 for item in scored if item.frustrated)
    echo(f"{data}: {len(scored)} texts, {positives} frustrated ({positives / len(scored):.1%})")
    echo("")
    echo(f"{'':<38}{'precision':>10}{'recall':>8}{'F1':>7}{'accuracy':>10}")
    _row(f"detector (threshold {config.threshold:.2f})", at_threshold(scored, config.threshold))
    model_only = BinaryScore.of([(s.frustrated, s.model_probability >= 0.5) for s in scored])
    _row("text model alone (probability >= 0.50)", model_only)
    _row(f"VADER only (compound <= {VADER_NEGATIVE})", vader_only(scored))
    cutoffs = [step / 100 for step in range(1, 100)]
    vader_points = sweep(scored, cutoffs, vader=True)
    best = max(vader_points, key=lambda p: p.result.f1 or 0.0)
    _row(f"VADER only, best F1 (<= -{best.threshold:.2f})", best.result)
    # The fair comparison for a precision-first detector: VADER tuned to the same recall.
    recall = at_threshold(scored, config.threshold).recall or 0.0
    same = min(vader_points, key=lambda p: abs((p.result.recall or 0.0) - recall))
    _row(f"VADER only, same recall (<= -{same.threshold:.2f})", same.result)
    echo(
        "AUROC: detector "
        + ratio(auroc([(s.frustrated, s.score) for s in scored]))
        + ", text model "
        + ratio(auroc([(s.frustrated, s.model_probability) for s in scored]))
        + ", VADER "
        + ratio(auroc([(s.frustrated, -s.sentiment) for s in scored]))
    )
    echo("")
    echo("threshold sweep: detector score >= t | VADER compound <= -t")
    echo(f"{'t':>5}{'P':>8}{'R':>7}{'F1':>7}  |{'P':>7}{'R':>7}{'F1':>7}")
    ours, theirs = sweep(scored, _THRESHOLDS), sweep(scored, _THRESHOLDS, vader=True)
    for mine, vader in zip(ours, theirs, strict=True):
        echo(f"{mine.threshold:>5.1f}{_prf(mine.result)}  |{_prf(vader.result)}")
    echo("")
    _cue_table(scored)


def _row(label: str, score: BinaryScore) -> None:
    echo(
        f"{label:<38}{ratio(score.precision):>10}{ratio(score.recall):>8}"
        f"{ratio(score.f1):>7}{ratio(score.accuracy):>10}"
    )


def _prf(score: BinaryScore) -> str:
    return f"{ratio(score.precision):>8}{ratio(score.recall):>7}{ratio(score.f1):>7}"


def _cue_table(scored: list[Scored]) -> None:
    """How often each cue fires on frustrated and other texts: which cues earn their weight."""
    fired: Counter[tuple[str, bool]] = Counter()
    for item in scored:
        for cue in {cue.split(":")[0] for cue in item.cues}:
            fired[cue, item.frustrated] += 1
    echo(f"{'cue':<22}{'on frustrated':>14}{'on others':>11}{'precision':>11}")
    for cue in sorted({cue for cue, _ in fired}):
        hits, misses = fired[cue, True], fired[cue, False]
        echo(f"{cue:<22}{hits:>14}{misses:>11}{ratio(hits / (hits + misses)):>11}")


# --- out of scope on CLINC150 -------------------------------------------------------------

_CLINC150 = _SHARED_DATA / "clinc150" / "clinc150_train_val.json"
_SHIPPED_PIPELINE = Path(__file__).resolve().parents[2] / "nlu" / "config.yml"
_MARGINS = (0.0, 0.1, 0.2)
_CONCURRENCY = 8
# Generous: the benchmark measures latency, and one slow parse must not end a long run.
_PARSE_TIMEOUT = 30.0


@bench.command(short_help="Personal-data detection on the shipped labelled set.")
@click.option(
    "--data",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A labelled JSON-lines file (default: the set shipped in handoff/privacy/data).",
)
@click.option("--misses", is_flag=True, help="List the messages it got wrong.")
@pass_cli
@explained
def pii(cli: CliContext, data: Path | None, misses: bool) -> None:
    """Precision and recall per kind of personal data, with the settings' detectors."""
    from bot.bench.pii import report_lines, run_pii_bench  # noqa: PLC0415 - only here
    from bot.settings import privacy_scanner  # noqa: PLC0415 - only here
    from handoff.privacy.evaluation import SHIPPED_SET  # noqa: PLC0415 - only here

    scanner = privacy_scanner(cli.settings.config.privacy)
    report = run_pii_bench(scanner, data or SHIPPED_SET)
    for line in report_lines(report, show_misses=misses):
        echo(line)


@bench.command(short_help="Out-of-scope queries on CLINC150 (trains a model: minutes).")
@click.option(
    "--data",
    type=click.Path(path_type=Path, dir_okay=False),
    default=_CLINC150,
    show_default=True,
    envvar="TANDEM_CLINC150",
    help="CLINC150's data_full.json layout: {split: [[text, intent], ...]}.",
)
@click.option(
    "--config",
    "config_file",
    # Absolute: Rasa trains in a staging folder of its own, where a relative path breaks.
    type=click.Path(path_type=Path, dir_okay=False, exists=True, resolve_path=True),
    default=_SHIPPED_PIPELINE,
    show_default=True,
    help="The Rasa pipeline to train.",
)
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
@click.option(
    "--model",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Parse with this model (one --keep-model kept) instead of training one.",
)
@click.option(
    "--parses",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the parses from this file if it exists (no Rasa at all); else write them there.",
)
@explained
def oos(
    *,
    data: Path,
    config_file: Path,
    keep_model: Path | None,
    per_intent: int | None,
    model: Path | None,
    parses: Path | None,
) -> None:
    """Out-of-scope queries on CLINC150: refused by the policy, while in-scope ones are answered?

    Trains the pipeline on CLINC150's train split plus oos_train (as out_of_scope), parses
    val and oos_val with a real Rasa server, and replays each parse through the policy as a
    customer's first message.
    """
    if parses is not None and parses.exists():
        echo(f"the parses in {parses} (no training, no Rasa)")
        _oos_report(read_parses(parses))
        return
    clinc = load_clinc150(data)
    environment = RasaEnvironment(default_environment_path())
    environment.require_ready()  # before minutes of work, not after
    examples = training_examples(clinc, per_intent)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-oos-") as temporary:
        root = Path(temporary)
        write_training_data(examples, root / "data")
        # A store of its own: the benchmark's model never becomes the service's current one.
        store = ModelStore(root / "models")
        intents = len({example.intent for example in examples})
        sample = f" (at most {per_intent} per intent)" if per_intent else ""
        if model is not None:
            store = private_store(model, root / "models")
            echo(f"parsing with {model} (not trained here)")
        else:
            echo(f"training {config_file} on {len(examples)} examples of {intents} intents{sample}")
            run_async(_train(environment, config_file, root / "data", store))
        if keep_model is not None:
            _keep(store, keep_model)
        parsed = run_async(_parse([*clinc.val, *clinc.oos_val], environment, store))
    if parses is not None:
        write_parses(parsed, parses)
    echo("")
    _oos_report(parsed)


async def _train(
    environment: RasaEnvironment, config_file: Path, data_dir: Path, store: ModelStore
) -> None:
    def progress(step: Progress) -> None:
        total = f"/{step.total}" if step.total else ""
        echo(f"  [{step.step}{total}] {step.message}")

    trained = await train_model(
        environment=environment,
        config_file=config_file,
        data_dir=data_dir,
        store=store,
        on_progress=progress,
    )
    echo(f"trained in {trained.seconds:.1f} s")


def _keep(store: ModelStore, folder: Path) -> None:
    model = store.current()
    if model is not None:  # train_model installs it as current or raises
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(model, folder / model.name)
        echo(f"kept the model as {folder / model.name}")


async def _parse(
    examples: list[Example], environment: RasaEnvironment, store: ModelStore
) -> list[Parsed]:
    started = time.monotonic()
    server = ManagedRasaServer(environment=environment, store=store, parse_timeout=_PARSE_TIMEOUT)
    async with server:
        echo(f"Rasa server up in {time.monotonic() - started:.1f} s; parsing {len(examples)} texts")

        def progress(done: int) -> None:
            if done % 1000 == 0:
                echo(f"  {done}/{len(examples)}")

        parsed, speed = await parse_all(
            server, examples, concurrency=_CONCURRENCY, on_parsed=progress
        )
    echo(
        f"parsed {speed.count} texts in {speed.wall_seconds:.1f} s ({speed.per_second:.0f}/s, "
        f"{_CONCURRENCY} at a time); latency p50 {speed.p50 * 1000:.0f} ms, "
        f"p95 {speed.p95 * 1000:.0f} ms"
    )
    return parsed


def _oos_report(parsed: list[Parsed]) -> None:
    in_scope = sum(1 for item in parsed if item.in_scope)
    accuracy = ratio(intent_accuracy(parsed))
    echo(f"in-scope intent accuracy (top intent = label, {in_scope} val texts): {accuracy}")
    echo("")
    config = PolicyConfig()
    outcome = judge_all(parsed, policy_judge(config, FrustrationDetector(config.frustration)))
    echo(
        f"the policy as configured (confidence_threshold {config.confidence_threshold:.2f}, "
        f"ambiguity_margin {config.ambiguity_margin:.2f}), each text a first message:"
    )
    _share_row("out of scope, not answered (OOS caught)", outcome.oos_caught, outcome.oos_total)
    _share_row("in scope, answered the right intent", outcome.answered_right, in_scope)
    _share_row("in scope, answered a WRONG intent", outcome.answered_wrong, in_scope)
    _share_row("in scope, not answered (needless clarify)", outcome.not_answered, in_scope)
    echo("")
    classic = BinaryScore.of(oos_pairs(parsed, config.confidence_threshold))
    echo(
        f"classic CLINC150 out-of-scope detection (top intent out_of_scope or confidence "
        f"< {config.confidence_threshold:.2f}): precision {ratio(classic.precision)}, "
        f"recall {ratio(classic.recall)}, F1 {ratio(classic.f1)}"
    )
    echo("")
    _two_turn_report(parsed, config)
    echo("")
    _policy_sweep(parsed, config)


def _before_issue_9(config: PolicyConfig) -> PolicyConfig:
    """The policy's rules before issue 9: a human-only topic at the confidence threshold,
    no gibberish rule, frustration from the cues and VADER without the text model."""
    return replace(
        config,
        human_only_threshold=config.confidence_threshold,
        human_only_margin=0.0,
        gibberish_log_prob=-1000.0,
        frustration=replace(
            config.frustration,
            model_weight=0.0,
            sentiment_weight=0.45,
            not_helpful_weight=0.0,
            after_failed_turn_weight=0.0,
        ),
    )


def _two_turn_report(parsed: list[Parsed], config: PolicyConfig) -> None:
    """Each customer sends two different queries of one kind: handed off within two turns?"""
    echo("two turns (every ordered pair of two different val queries of the same kind):")
    echo(f"  {'':<34}{'OOS handed off':>16}{'in scope handed off':>21}")
    for label, rules in (("before issue 9", _before_issue_9(config)), ("as configured", config)):
        judge = policy_turn_judge(rules, FrustrationDetector(rules.frustration))
        oos_pairs_, in_scope = two_turn_handoffs(parsed, judge)
        echo(f"  {label:<34}{_percent(oos_pairs_.rate):>16}{_percent(in_scope.rate):>21}")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _policy_sweep(parsed: list[Parsed], base: PolicyConfig) -> None:
    """OOS caught | in scope answered right | answered wrong, per threshold and margin."""
    detector = FrustrationDetector(base.frustration)
    echo("sweep: share of OOS caught | in scope answered right | in scope answered WRONG")
    margins = "".join(f"{f'ambiguity_margin {margin:.1f}':<21}" for margin in _MARGINS)
    echo(f"{'':<11}{margins}".rstrip())
    columns = f"{'OOS':<7}{'right':<7}{'wrong':<7}" * len(_MARGINS)
    echo(f"{'threshold':<11}{columns}".rstrip())
    for threshold in _THRESHOLDS:
        cells = ""
        for margin in _MARGINS:
            config = replace(base, confidence_threshold=threshold, ambiguity_margin=margin)
            outcome = judge_all(parsed, policy_judge(config, detector))
            cells += "".join(
                f"{ratio(rate, 2):<7}"
                for rate in (outcome.oos_caught_rate, outcome.right_rate, outcome.wrong_rate)
            )
        echo(f"{threshold:<11.1f}{cells}".rstrip())


def _share_row(label: str, part: int, whole: int) -> None:
    echo(f"  {label:<44}{ratio(part / whole if whole else None):>6}  ({part}/{whole})")


# --- the shipped model: held out, out of domain, gibberish --------------------------------

_TEST_DATA = Path(__file__).resolve().parents[2] / "nlu" / "test_data"


@bench.command(short_help="The shipped model and policy on held-out, off-topic and mashed texts.")
@click.option(
    "--goemotions",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=_SHARED_DATA / "goemotions" / "dev.tsv",
    show_default=True,
    help="Out-of-domain texts: GoEmotions' dev split (Reddit comments).",
)
@click.option(
    "--out-of-domain",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="How many of its comments to parse (the first N).",
)
@click.option(
    "--model",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The model to parse with (default: the current one).",
)
@pass_cli
@explained
def intents(cli: CliContext, goemotions: Path, out_of_domain: int, model: Path | None) -> None:
    """The shipped NLU model with the policy, before issue 9's rules and as configured:
    held-out examples (nlu/test_data) answered with the right intent; Reddit comments
    handed off at once as a human-only topic, or answered; generated keyboard mashing
    answered; and what one policy decision costs (p50).
    """
    from bot.bench.intents import measure, parse_sets, table  # noqa: PLC0415 - only here
    from bot.settings import policy_config  # noqa: PLC0415 - only here

    sets = run_async(
        parse_sets(
            cli.settings,
            test_data=_TEST_DATA,
            goemotions=goemotions,
            out_of_domain=out_of_domain,
            model=model,
            progress=_progress,
        )
    )
    config = policy_config(cli.settings.config.policy)
    rows = [
        measure("before issue 9", _before_issue_9(config), sets),
        measure("as configured", config, sets),
    ]
    for line in table(rows):
        echo(line)


# --- the whole service under load ---------------------------------------------------------


def _concurrencies(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(
            "expected whole numbers separated by commas, e.g. 1,8,32"
        ) from None
    if not levels or min(levels) < 1:
        raise click.BadParameter("expected concurrencies of at least 1, e.g. 1,8,32")
    return levels


def _backends(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(set(names) - {"sqlite", "postgres"})
    if unknown or not names:
        got = ", ".join(unknown) or repr(value)
        raise click.BadParameter(f"expected sqlite and/or postgres, comma-separated (got {got})")
    return names


# Options of the benchmarks that run on both backends.
_BACKENDS = click.option(
    "--backends",
    callback=_backends,
    default="sqlite,postgres",
    show_default=True,
    help="sqlite: the embedded default; postgres: PostgreSQL + Redis.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
_POSTGRES_OPTION = click.option(
    "--postgres",
    default=_POSTGRES,
    show_default=True,
    help="A PostgreSQL server where the run may create (and drop) a database of its own.",
)
_REDIS_OPTION = click.option(
    "--redis",
    default=_REDIS,
    show_default=True,
    help="A Redis server; the run's keys get a prefix of their own and are removed after.",
)


@bench.command(short_help="The whole service under load, against bare Rasa (minutes).")
@click.option(
    "--messages",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Measured messages per row (after the warm-up).",
)
@click.option(
    "--concurrency",
    callback=_concurrencies,
    default="1,8,32",
    show_default=True,
    help="Concurrent chats (closed loops), comma-separated.",
)
@_BACKENDS
@_JSON
@click.option(
    "--turns-before",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Turns every chat has had before the measured ones (0: the usual short warm-up).",
)
@click.option(
    "--stored",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Closed conversations (4 messages each) stored before the service starts.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer; a missing one is an error.",
)
@_POSTGRES_OPTION
@_REDIS_OPTION
@pass_cli
@explained
def load(
    cli: CliContext,
    *,
    messages: int,
    concurrency: tuple[int, ...],
    backends: tuple[str, ...],
    as_json: bool,
    turns_before: int,
    stored: int,
    timeout: float,
    postgres: str,
    redis: str,
) -> None:
    """The whole service against the Telegram and Slack simulators, and a bare Rasa on the
    same model, in closed loops: each chat sends a message, waits for the answer, sends the
    next.

    One row per backend and concurrency: answered messages a second, p50/p99 latency
    from the simulator receiving the customer's update to it receiving the bot's answer,
    CPU milliseconds per message of the service's process and of its Rasa (from /proc),
    errors (a missing answer, or a reply that is not a bot answer) and the throughput as a
    share of bare Rasa's. Telegram's pacing is lifted with its setting, telegram.limits. Linux only.
    """
    # Imported here: the whole service, which `tandem bench --help` does not need.
    from bot.bench.load import LoadOptions, run_load  # noqa: PLC0415
    from bot.bench.report import Backend, report_json, table  # noqa: PLC0415

    options = LoadOptions(
        messages=messages,
        concurrency=concurrency,
        backends=tuple(Backend(name) for name in backends),
        turns_before=turns_before,
        stored=stored,
        timeout=timeout,
        postgres=postgres,
        redis=redis,
    )
    report = run_async(run_load(cli.settings, options, progress=_progress))
    if as_json:
        echo(report_json(report, settings=options.described()))
    else:
        echo("")
        for line in table(report):
            echo(line)


def _progress(line: str) -> None:
    click.echo(line, err=True)


# --- what an agent's reply costs ------------------------------------------------------------


@bench.command("agent-reply", short_help="Transactions, statements, CPU per agent reply.")
@click.option(
    "--handoffs",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Handoffs measured per backend (each: the first reply, then --replies more).",
)
@click.option(
    "--replies",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Later replies per handoff, after the first.",
)
@_BACKENDS
@_JSON
@_POSTGRES_OPTION
@_REDIS_OPTION
@pass_cli
@explained
def agent_reply(
    cli: CliContext,
    *,
    handoffs: int,
    replies: int,
    backends: tuple[str, ...],
    as_json: bool,
    postgres: str,
    redis: str,
) -> None:
    """What an agent's reply costs the core, in this process with the real storage and live
    state and a recording Slack and Telegram: per first reply (the agent takes the handoff
    by replying and is introduced) and per later reply, the database transactions and
    statements, statements reading the conversation row, reads of the recent messages,
    CPU milliseconds, and project function calls (cProfile, on 3 more handoffs).
    """
    import json  # noqa: PLC0415

    from bot.bench.agent import as_dicts, measure, table  # noqa: PLC0415

    rows = [
        run_async(
            measure(
                cli.settings,
                backend=backend,
                handoffs=handoffs,
                replies=replies,
                postgres=postgres,
                redis=redis,
            )
        )
        for backend in backends
    ]
    if as_json:
        echo(json.dumps(as_dicts(rows), indent=2))
    else:
        for line in table(rows):
            echo(line)


# --- Slack's per-channel limit ----------------------------------------------------------------


@bench.command("slack-burst", short_help="A burst of customer messages into one agent channel.")
@click.option(
    "--messages",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Customer messages in the burst.",
)
@click.option(
    "--conversations",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Handed-off conversations sharing the agent channel.",
)
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
@_POSTGRES_OPTION
@_REDIS_OPTION
@pass_cli
@explained
def slack_burst(
    cli: CliContext,
    *,
    messages: int,
    conversations: int,
    backends: tuple[str, ...],
    pacing: str,
    timeout: float,
    as_json: bool,
    postgres: str,
    redis: str,
) -> None:
    """A burst of customer messages into handed-off conversations in one agent channel,
    against the Slack simulator answering 429 above one post a second per channel (bursts
    of 3): the real core and Slack desk in this process. Per backend: delivered, lost,
    duplicated, out of order, posts, 429s, seconds until all are in Slack, messages a
    second and CPU ms per message.
    """
    import json  # noqa: PLC0415

    from bot.bench.slack_burst import BurstOptions, as_dicts, run_burst, table  # noqa: PLC0415

    modes = {"on": (True,), "off": (False,), "both": (False, True)}[pacing]
    results = [
        run_async(
            run_burst(
                cli.settings,
                BurstOptions(
                    conversations=conversations,
                    messages=messages,
                    backend=backend,
                    pacing=paced,
                    timeout=timeout,
                    postgres=postgres,
                    redis=redis,
                ),
            )
        )
        for backend in backends
        for paced in modes
    ]
    if as_json:
        echo(json.dumps(as_dicts(results), indent=2))
    else:
        for line in table(results):
            echo(line)
