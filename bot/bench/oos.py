"""``tandem bench oos``: out-of-scope queries on CLINC150. Trains the pipeline on CLINC150's
train split plus oos_train (as out_of_scope), parses val and oos_val with a real Rasa
server, and replays each parse through the policy as a customer's first message; then
again with the sentence-embedding model (fitted on the same training examples) re-ranking
each parse and measuring its nearest example."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.bench.rasa import private_store
from bot.bench.texts import policy_judge, policy_turn_judge
from handoff.policy import PolicyConfig
from handoff.policy.frustration import FrustrationDetector
from handoff.policy.metrics import BinaryScore, ratio
from nlu.benchmark import (
    Example,
    Parsed,
    intent_accuracy,
    judge_all,
    load_clinc150,
    oos_pairs,
    parse_all,
    percentile,
    read_parses,
    training_examples,
    two_turn_handoffs,
    write_parses,
    write_training_data,
)
from nlu.encoders import TUNINGS, EncoderName, sentence_encoder
from nlu.environment import RasaEnvironment, default_environment_path
from nlu.models import ModelStore
from nlu.semantic import ExampleModel, LabelledText, combine
from nlu.server import ManagedRasaServer
from nlu.training import Progress, train_model

Out = Callable[[str], None]
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_MARGINS = (0.0, 0.1, 0.2)
_CONCURRENCY = 8
# Generous: the benchmark measures latency, and one slow parse must not end a long run.
_PARSE_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OosOptions:
    data: Path  # CLINC150's data_full.json layout
    config_file: Path  # the Rasa pipeline to train
    keep_model: Path | None  # copy the trained model here
    per_intent: int | None  # train on at most this many examples per intent
    model: Path | None  # parse with this model instead of training one
    parses: Path | None  # read the parses here if it exists (no Rasa), else write them
    encoder: EncoderName  # the sentence encoder of the embedding model


async def run_oos(options: OosOptions, out: Out) -> None:
    """The run and its report, line by line to ``out``."""
    clinc = load_clinc150(options.data)
    examples = training_examples(clinc, options.per_intent)
    if options.parses is not None and options.parses.exists():
        out(f"the parses in {options.parses} (no training, no Rasa)")
        parsed = read_parses(options.parses)
        _oos_report(out, parsed, with_embeddings(out, parsed, examples, options.encoder))
        return
    sample = f" (at most {options.per_intent} per intent)" if options.per_intent else ""
    parsed, _ = await trained_and_parsed(
        out,
        train=examples,
        parse=[*clinc.val, *clinc.oos_val],
        config_file=options.config_file,
        model=options.model,
        keep_model=options.keep_model,
        sample=sample,
    )
    if options.parses is not None:
        write_parses(parsed, options.parses)
    out("")
    _oos_report(out, parsed, with_embeddings(out, parsed, examples, options.encoder))


async def trained_and_parsed(
    out: Out,
    *,
    train: list[Example],
    parse: list[Example],
    config_file: Path,
    model: Path | None = None,
    keep_model: Path | None = None,
    sample: str = "",
) -> tuple[list[Parsed], float | None]:
    """``parse`` parsed by a model of ``config_file`` trained on ``train`` (or by
    ``model``); with the seconds the training took (None: not trained here)."""
    environment = RasaEnvironment(default_environment_path())
    environment.require_ready()  # before minutes of work, not after
    seconds = None
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as temporary:
        root = Path(temporary)
        write_training_data(train, root / "data")
        # A store of its own: the benchmark's model never becomes the service's current one.
        store = ModelStore(root / "models")
        intents = len({example.intent for example in train})
        if model is not None:
            store = private_store(model, root / "models")
            out(f"parsing with {model} (not trained here)")
        else:
            out(f"training {config_file} on {len(train)} examples of {intents} intents{sample}")
            seconds = await train_pipeline(out, environment, config_file, root / "data", store)
        if keep_model is not None:
            _keep(out, store, keep_model)
        return await parse_examples(out, parse, environment, store), seconds


async def train_pipeline(
    out: Out, environment: RasaEnvironment, config_file: Path, data_dir: Path, store: ModelStore
) -> float:
    """Train and install the model in ``store``; the seconds it took."""

    def progress(step: Progress) -> None:
        total = f"/{step.total}" if step.total else ""
        out(f"  [{step.step}{total}] {step.message}")

    trained = await train_model(
        environment=environment,
        config_file=config_file,
        data_dir=data_dir,
        store=store,
        on_progress=progress,
    )
    out(f"trained in {trained.seconds:.1f} s")
    return trained.seconds


def _keep(out: Out, store: ModelStore, folder: Path) -> None:
    model = store.current()
    if model is not None:  # train_model installs it as current or raises
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(model, folder / model.name)
        out(f"kept the model as {folder / model.name}")


async def parse_examples(
    out: Out, examples: list[Example], environment: RasaEnvironment, store: ModelStore
) -> list[Parsed]:
    started = time.monotonic()
    server = ManagedRasaServer(environment=environment, store=store, parse_timeout=_PARSE_TIMEOUT)
    async with server:
        out(f"Rasa server up in {time.monotonic() - started:.1f} s; parsing {len(examples)} texts")

        def progress(done: int) -> None:
            if done % 1000 == 0:
                out(f"  {done}/{len(examples)}")

        parsed, speed = await parse_all(
            server, examples, concurrency=_CONCURRENCY, on_parsed=progress
        )
    out(
        f"parsed {speed.count} texts in {speed.wall_seconds:.1f} s ({speed.per_second:.0f}/s, "
        f"{_CONCURRENCY} at a time); latency p50 {speed.p50 * 1000:.0f} ms, "
        f"p95 {speed.p95 * 1000:.0f} ms"
    )
    return parsed


def with_embeddings(
    out: Out, parsed: list[Parsed], examples: list[Example], encoder: EncoderName
) -> list[Parsed]:
    """Each parse re-ranked by the embedding model fitted on the training examples."""
    started = time.perf_counter()
    tuning = TUNINGS[encoder]
    model = ExampleModel(
        encoder=sentence_encoder(encoder),
        examples=[LabelledText(example.text, example.intent) for example in examples],
        regularisation=tuning.regularisation,
    )
    fitted = time.perf_counter() - started
    out(f"embedding model ({encoder}) fitted on {len(examples)} examples in {fitted:.1f} s")
    combined: list[Parsed] = []
    each: list[float] = []
    for item in parsed:
        started = time.perf_counter()
        result = combine(item.result, model, rasa_weight=tuning.rasa_weight)
        each.append(time.perf_counter() - started)
        combined.append(replace(item, result=result))
    out(f"embedding step per message: p50 {percentile(each, 50) * 1000:.2f} ms")
    return combined


def _oos_report(out: Out, rasa: list[Parsed], parsed: list[Parsed]) -> None:
    """``rasa``: Rasa's parses; ``parsed``: the same re-ranked with embeddings."""
    in_scope = sum(1 for item in parsed if item.in_scope)
    out(
        f"in-scope intent accuracy (top intent = label, {in_scope} val texts): Rasa alone "
        f"{ratio(intent_accuracy(rasa))}, with embeddings {ratio(intent_accuracy(parsed))}"
    )
    out("")
    config = PolicyConfig()
    outcome = judge_all(parsed, policy_judge(config, FrustrationDetector(config.frustration)))
    out(
        f"the policy as configured (min_scope_score {config.min_scope_score}, "
        f"scope_confidence_weight {config.scope_confidence_weight}), with embeddings, each "
        "text a first message:"
    )
    _share_row(
        out, "out of scope, not answered (OOS caught)", outcome.oos_caught, outcome.oos_total
    )
    _share_row(out, "in scope, answered the right intent", outcome.answered_right, in_scope)
    _share_row(out, "in scope, answered a WRONG intent", outcome.answered_wrong, in_scope)
    _share_row(out, "in scope, not answered (needless clarify)", outcome.not_answered, in_scope)
    out("")
    classic = BinaryScore.of(oos_pairs(parsed, config.confidence_threshold))
    out(
        f"classic CLINC150 out-of-scope detection (top intent out_of_scope or confidence "
        f"< {config.confidence_threshold:.2f}): precision {ratio(classic.precision)}, "
        f"recall {ratio(classic.recall)}, F1 {ratio(classic.f1)}"
    )
    out("")
    _two_turn_report(out, rasa, parsed, config)
    out("")
    _scope_sweep(out, parsed, config)
    out("")
    out("Rasa alone (its ranking only, no scope score):")
    _policy_sweep(out, rasa, config)


def before_issue_9(config: PolicyConfig) -> PolicyConfig:
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


def _two_turn_report(
    out: Out, rasa: list[Parsed], parsed: list[Parsed], config: PolicyConfig
) -> None:
    """Each customer sends two different queries of one kind: handed off within two turns?"""
    out("two turns (every ordered pair of two different val queries of the same kind):")
    out(f"  {'':<34}{'OOS handed off':>16}{'in scope handed off':>21}")
    for label, rules, parses in (
        ("before issue 9 (Rasa alone)", before_issue_9(config), rasa),
        ("as configured, Rasa alone", config, rasa),
        ("as configured, with embeddings", config, parsed),
    ):
        judge = policy_turn_judge(rules, FrustrationDetector(rules.frustration))
        oos_pairs_, in_scope = two_turn_handoffs(parses, judge)
        out(f"  {label:<34}{_percent(oos_pairs_.rate):>16}{_percent(in_scope.rate):>21}")


_SCOPE_SCORES = (0.8, 0.84, 0.88, 0.92, 0.96, 1.0)


def _scope_sweep(out: Out, parsed: list[Parsed], base: PolicyConfig) -> None:
    """Two-turn handoffs with embeddings, per min_scope_score."""
    out(
        "sweep, with embeddings (scope_confidence_weight "
        f"{base.scope_confidence_weight}): two-turn handoffs per min_scope_score"
    )
    out(f"  {'min_scope_score':<18}{'OOS handed off':>16}{'in scope handed off':>21}")
    for limit in _SCOPE_SCORES:
        config = replace(base, min_scope_score=limit)
        judge = policy_turn_judge(config, FrustrationDetector(config.frustration))
        oos, in_scope = two_turn_handoffs(parsed, judge)
        out(f"  {limit:<18.2f}{_percent(oos.rate):>16}{_percent(in_scope.rate):>21}")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _policy_sweep(out: Out, parsed: list[Parsed], base: PolicyConfig) -> None:
    """OOS caught | in scope answered right | answered wrong, per threshold and margin."""
    detector = FrustrationDetector(base.frustration)
    out("sweep: share of OOS caught | in scope answered right | in scope answered WRONG")
    margins = "".join(f"{f'ambiguity_margin {margin:.1f}':<21}" for margin in _MARGINS)
    out(f"{'':<11}{margins}".rstrip())
    columns = f"{'OOS':<7}{'right':<7}{'wrong':<7}" * len(_MARGINS)
    out(f"{'threshold':<11}{columns}".rstrip())
    for threshold in _THRESHOLDS:
        cells = ""
        for margin in _MARGINS:
            config = replace(base, confidence_threshold=threshold, ambiguity_margin=margin)
            outcome = judge_all(parsed, policy_judge(config, detector))
            cells += "".join(
                f"{ratio(rate, 2):<7}"
                for rate in (outcome.oos_caught_rate, outcome.right_rate, outcome.wrong_rate)
            )
        out(f"{threshold:<11.1f}{cells}".rstrip())


def _share_row(out: Out, label: str, part: int, whole: int) -> None:
    out(f"  {label:<44}{ratio(part / whole if whole else None):>6}  ({part}/{whole})")
