"""``tandem bench``: benchmarks on public data sets. Slow-ish, and not part of the tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from bot.commands.common import echo, explained
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
from handoff.policy.metrics import BinaryScore, ratio

# The shared data sets sit beside the checkout (see ../shared/data/README.md).
_SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@click.group(short_help="Benchmarks on public data sets (not tests).")
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
    _row(f"VADER only (compound <= {VADER_NEGATIVE})", vader_only(scored))
    cutoffs = [step / 100 for step in range(1, 100)]
    vader_points = sweep(scored, cutoffs, vader=True)
    best = max(vader_points, key=lambda p: p.result.f1 or 0.0)
    _row(f"VADER only, best F1 (<= -{best.threshold:.2f})", best.result)
    # The fair comparison for a precision-first detector: VADER tuned to the same recall.
    recall = at_threshold(scored, config.threshold).recall or 0.0
    same = min(vader_points, key=lambda p: abs((p.result.recall or 0.0) - recall))
    _row(f"VADER only, same recall (<= -{same.threshold:.2f})", same.result)
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


# --- out of scope on CLINC150 (to be written) ---------------------------------------------
# `tandem bench out-of-scope [--data PATH]`: train a Rasa model on CLINC150's in-scope train
# split plus oos_train (as `out_of_scope`), parse val + oos_val through it, and replay each
# parse as a one-turn Turn through decide(): how often out-of-scope queries are caught
# (OUT_OF_SCOPE or LOW_CONFIDENCE) versus in-scope ones wrongly refused, with a sweep of
# confidence_threshold and ambiguity_margin. Needs a trained model, so it lives here as
# another @bench.command() beside `frustration`.
