"""``tandem bench frustration``: the frustration detector on GoEmotions, against VADER
alone (frustrated = labelled anger, annoyance, disappointment, disapproval or disgust)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

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
from nlu.benchmark import percentile

Out = Callable[[str], None]
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def frustration_report(data: Path, out: Out) -> None:
    """The report on the GoEmotions TSV ``data``, line by line to ``out``."""
    texts = load_goemotions(data)
    config = FrustrationConfig()
    detector = FrustrationDetector(config)
    scored = score_texts(texts, detector)
    positives = sum(1 for item in scored if item.frustrated)
    out(f"{data}: {len(scored)} texts, {positives} frustrated ({positives / len(scored):.1%})")
    out("")
    out(f"{'':<38}{'precision':>10}{'recall':>8}{'F1':>7}{'accuracy':>10}")
    _row(
        out, f"detector (threshold {config.threshold:.2f})", at_threshold(scored, config.threshold)
    )
    model_only = BinaryScore.of([(s.frustrated, s.model_probability >= 0.5) for s in scored])
    _row(out, "text model alone (probability >= 0.50)", model_only)
    _row(out, f"VADER only (compound <= {VADER_NEGATIVE})", vader_only(scored))
    cutoffs = [step / 100 for step in range(1, 100)]
    vader_points = sweep(scored, cutoffs, vader=True)
    best = max(vader_points, key=lambda p: p.result.f1 or 0.0)
    _row(out, f"VADER only, best F1 (<= -{best.threshold:.2f})", best.result)
    # The fair comparison for a precision-first detector: VADER tuned to the same recall.
    recall = at_threshold(scored, config.threshold).recall or 0.0
    same = min(vader_points, key=lambda p: abs((p.result.recall or 0.0) - recall))
    _row(out, f"VADER only, same recall (<= -{same.threshold:.2f})", same.result)
    out(
        "AUROC: detector "
        + ratio(auroc([(s.frustrated, s.score) for s in scored]))
        + ", text model "
        + ratio(auroc([(s.frustrated, s.model_probability) for s in scored]))
        + ", VADER "
        + ratio(auroc([(s.frustrated, -s.sentiment) for s in scored]))
    )
    out("")
    out("threshold sweep: detector score >= t | VADER compound <= -t")
    out(f"{'t':>5}{'P':>8}{'R':>7}{'F1':>7}  |{'P':>7}{'R':>7}{'F1':>7}")
    ours, theirs = sweep(scored, _THRESHOLDS), sweep(scored, _THRESHOLDS, vader=True)
    for mine, vader in zip(ours, theirs, strict=True):
        out(f"{mine.threshold:>5.1f}{_prf(mine.result)}  |{_prf(vader.result)}")
    out("")
    _cue_table(out, scored)
    out("")
    p50, p95 = _assess_cost(detector, [item.text for item in texts])
    out(
        f"cost of one assessment (text model, VADER, cues), {len(texts)} texts: "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )


def _assess_cost(detector: FrustrationDetector, texts: list[str]) -> tuple[float, float]:
    """p50 and p95 milliseconds of CPU time of one assessment (a second pass: warm caches;
    CPU time, so other processes on the machine do not count)."""
    seconds = []
    for text in texts:
        started = time.process_time()
        detector.assess(text, intent=None)
        seconds.append(time.process_time() - started)
    return percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000


def _row(out: Out, label: str, score: BinaryScore) -> None:
    out(
        f"{label:<38}{ratio(score.precision):>10}{ratio(score.recall):>8}"
        f"{ratio(score.f1):>7}{ratio(score.accuracy):>10}"
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
