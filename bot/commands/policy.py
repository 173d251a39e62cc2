"""``tandem policy``: check the escalation policy against labelled conversations."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from bot.bench.texts import load_examples
from bot.commands.common import echo, explained, fail
from bot.meaning import ENCODER_NAME, frustration_encoder, training_encoder
from handoff.policy import FrustrationDetector, PolicyConfig
from handoff.policy.evaluation import SHIPPED_CONVERSATIONS, evaluate_file, format_report
from nlu.minilm import EncoderUnavailable

# The NLU's training data: support-desk examples for the text model too.
_NLU_DATA = Path(__file__).resolve().parents[2] / "nlu" / "data"


@click.group(short_help="Evaluate the escalation policy.")
def policy() -> None:
    """Evaluate the escalation policy (when the bot hands a conversation to a person)."""


@policy.command("eval")
@click.argument(
    "file",
    required=False,
    type=click.Path(path_type=Path, dir_okay=False),
)
@explained
def eval_(file: Path | None) -> None:
    """Replay labelled conversations (default: the shipped set) through the policy; print
    precision/recall/F1 per handoff reason, action accuracy and every mismatch.

    Exits 0 whatever the scores: this measures, it does not gate. A file that cannot be
    read exits 1 with one line per problem.
    """
    # The policy's defaults. Once config/tandem.yml has a `policy:` section, build the
    # PolicyConfig from cli.settings here, so operators can measure their own settings.
    config = PolicyConfig()
    detector = FrustrationDetector(config.frustration, encoder=frustration_encoder())
    report = evaluate_file(file or SHIPPED_CONVERSATIONS, config=config, detector=detector)
    for line in format_report(report):
        echo(line)


@policy.command("train")
@click.option(
    "--check",
    is_flag=True,
    help="Retrain and compare with the committed weights instead of writing them (exit 1 "
    "if they differ).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the weights (default: the shipped file).",
)
@explained
def train(check: bool, out: Path | None) -> None:
    """Train the frustration text model on the shipped GoEmotions data and the NLU's
    examples (complaints frustrated, the rest not), and its meaning head over
    all-MiniLM-L6-v2's vectors; about ten minutes (encoding 44,000 texts, five more fits).

    Writes handoff/policy/data/frustration-weights.json.gz, which the service reads at
    start. With --check, exits 1 unless the committed weights are what training gives.
    """
    # scikit-learn only here: the service scores without it.
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    from handoff.policy import training  # noqa: PLC0415
    from handoff.policy.weights import SHIPPED_WEIGHTS, dump_weights, load_weights  # noqa: PLC0415

    complaints = set(PolicyConfig().complaint_intents)
    support = [(example.text, example.intent in complaints) for example in load_examples(_NLU_DATA)]
    data = training.read_training_data().with_support(support)
    try:
        # Every core: training encodes 44,000 texts in batches (the service keeps one).
        encoder = training_encoder(threads=os.cpu_count() or 1)
    except EncoderUnavailable as exc:
        fail([f"the meaning head needs its sentence encoder: {exc}"])
    started = time.monotonic()
    # Every core for BLAS here too (the fits): the service keeps one thread for a
    # message's small matrices (nlu.minilm).
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
        weights = training.train(data, encoder=encoder, encoder_name=ENCODER_NAME, progress=echo)
    echo(f"trained in {time.monotonic() - started:.1f} s: {len(weights.model.terms)} features")
    target = out or SHIPPED_WEIGHTS
    if check:
        problem = training.mismatch(load_weights(target), weights, data.texts)
        if problem is not None:
            fail(
                [f"{target}: not the weights training gives: {problem}; run `tandem policy train`"]
            )
        echo(f"{target}: matches the training data ({data.sha256[:12]})")
        return
    dump_weights(weights, target)
    echo(f"wrote {target}")
