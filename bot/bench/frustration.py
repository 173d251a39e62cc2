"""``tandem bench frustration``: the frustration detector on GoEmotions, before and after
the meaning head (the words model alone, as shipped before, against the words model read
with all-MiniLM-L6-v2's vectors), each against VADER alone (frustrated = labelled anger,
annoyance, disappointment, disapproval or disgust)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.meaning import ENCODER_NAME, required_encoder
from handoff.policy.benchmark import (
    VADER_NEGATIVE,
    LabelledText,
    Scored,
    at_threshold,
    load_goemotions,
    score_text,
    sweep,
    vader_only,
)
from handoff.policy.config import FrustrationConfig
from handoff.policy.frustration import FrustrationDetector
from handoff.policy.metrics import BinaryScore, auroc, ratio
from nlu.benchmark import percentile

Out = Callable[[str], None]
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True, slots=True)
class _Run:
    """One detector's scores on the texts and the CPU seconds of each assessment."""

    scored: list[Scored]
    seconds: list[float]


def frustration_report(data: Path, out: Out) -> None:
    """The report on the GoEmotions TSV ``data``, line by line to ``out``."""
    texts = load_goemotions(data)
    config = FrustrationConfig()
    before = _run(FrustrationDetector(config, words_only=True), texts)
    after = _run(FrustrationDetector(config, encoder=required_encoder()), texts)
    positives = sum(1 for item in texts if item.frustrated)
    out(f"{data}: {len(texts)} texts, {positives} frustrated ({positives / len(texts):.1%})")
    out(f"before: the words model alone (TF-IDF + VADER); after: read with {ENCODER_NAME}")
    out("")
    out(f"{'':<40}{'before':^31}|{'after':^31}")
    out(f"{'':<40}{_HEADER}|{_HEADER}")
    runs = (before.scored, after.scored)
    _row(out, f"detector (threshold {config.threshold:.2f})", runs, _detector(config.threshold))
    _row(out, "text model alone (probability >= 0.50)", runs, _model_only)
    _row(out, f"VADER only (compound <= {VADER_NEGATIVE})", runs[:1], vader_only)
    cutoffs = [step / 100 for step in range(1, 100)]
    vader_points = sweep(before.scored, cutoffs, vader=True)
    best = max(vader_points, key=lambda p: p.result.f1 or 0.0)
    out(f"{f'VADER only, best F1 (<= -{best.threshold:.2f})':<40}{_prf4(best.result)}|")
    for name, run in (("before", before.scored), ("after", after.scored)):
        out(
            f"AUROC {name}: detector "
            + ratio(auroc([(s.frustrated, s.score) for s in run]))
            + ", text model "
            + ratio(auroc([(s.frustrated, s.model_probability) for s in run]))
            + ", VADER "
            + ratio(auroc([(s.frustrated, -s.sentiment) for s in run]))
        )
    out("")
    out("threshold sweep: detector score >= t (before | after) | VADER compound <= -t")
    columns = f"{'P':>7}{'R':>7}{'F1':>7}"
    out(f"{'t':>5} {columns}  |{columns}  |{columns}")
    points = zip(
        sweep(before.scored, _THRESHOLDS),
        sweep(after.scored, _THRESHOLDS),
        sweep(before.scored, _THRESHOLDS, vader=True),
        strict=True,
    )
    for old, new, vader in points:
        out(f"{old.threshold:>5.1f}{_prf(old.result)}  |{_prf(new.result)}  |{_prf(vader.result)}")
    out("")
    out("after:")
    _cue_table(out, after.scored)
    out("")
    out(f"CPU time of one assessment (text model, VADER, cues), {len(texts)} texts:")
    for name, timed in (("before", before), ("after", after)):
        p50, p95 = percentile(timed.seconds, 50) * 1000, percentile(timed.seconds, 95) * 1000
        out(f"  {name:<7} p50 {p50:.2f} ms, p95 {p95:.2f} ms")


def _run(detector: FrustrationDetector, texts: Sequence[LabelledText]) -> _Run:
    """Every text assessed once, timed in CPU time (other processes do not count; each
    text is new to the encoder's cache unless it appears twice in the data)."""
    scored, seconds = [], []
    for item in texts:
        started = time.process_time()
        scored.append(score_text(item, detector))
        seconds.append(time.process_time() - started)
    return _Run(scored, seconds)


_HEADER = f"{'precision':>10}{'recall':>7}{'F1':>6}{'accuracy':>9} "


def _detector(threshold: float) -> Callable[[Sequence[Scored]], BinaryScore]:
    return lambda scored: at_threshold(scored, threshold)


def _model_only(scored: Sequence[Scored]) -> BinaryScore:
    return BinaryScore.of([(s.frustrated, s.model_probability >= 0.5) for s in scored])


def _row(
    out: Out,
    label: str,
    runs: Sequence[list[Scored]],
    measure: Callable[[Sequence[Scored]], BinaryScore],
) -> None:
    cells = "|".join(_prf4(measure(run)) for run in runs)
    out(f"{label:<40}{cells}{'|' if len(runs) == 1 else ''}")


def _prf4(score: BinaryScore) -> str:
    return (
        f"{ratio(score.precision):>10}{ratio(score.recall):>7}"
        f"{ratio(score.f1):>6}{ratio(score.accuracy):>9} "
    )


def _prf(score: BinaryScore) -> str:
    return f"{ratio(score.precision):>8}{ratio(score.recall):>7}{ratio(score.f1):>7}"


def _cue_table(out: Out, scored: list[Scored]) -> None:
    """How often each cue fires on frustrated and other texts: which cues earn their weight."""
    fired: Counter[tuple[str, bool]] = Counter()
    for item in scored:
        for cue in {cue.split(":")[0] for cue in item.cues}:
            fired[cue, item.frustrated] += 1
    out(f"{'cue':<22}{'on frustrated':>14}{'on others':>11}{'precision':>11}")
    for cue in sorted({cue for cue, _ in fired}):
        hits, misses = fired[cue, True], fired[cue, False]
        out(f"{cue:<22}{hits:>14}{misses:>11}{ratio(hits / (hits + misses)):>11}")
