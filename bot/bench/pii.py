"""``tandem bench pii``: precision and recall of the personal-data detection per kind on the
labelled set the project ships, and what a scan costs per message."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from handoff.privacy import Scanner
from handoff.privacy.evaluation import Evaluation, evaluate, load_labelled

TARGETS = {"card": (0.95, 0.98), "email": (0.95, 0.98), "phone": (0.95, 0.98)}


@dataclass(frozen=True, slots=True)
class PiiReport:
    path: Path
    evaluation: Evaluation
    microseconds_per_message: float


def run_pii_bench(scanner: Scanner, path: Path, *, rounds: int = 5) -> PiiReport:
    labelled = load_labelled(path)
    evaluation = evaluate(scanner, labelled)
    texts = [example.text for example in labelled]
    best = float("inf")
    for _ in range(rounds):  # the fastest round: the least disturbed by other processes
        started = time.process_time()
        for text in texts:
            scanner.find(text)
        best = min(best, time.process_time() - started)
    return PiiReport(
        path=path, evaluation=evaluation, microseconds_per_message=best / len(texts) * 1e6
    )


def report_lines(report: PiiReport, *, show_misses: bool) -> list[str]:
    evaluation = report.evaluation
    lines = [
        f"{report.path}: {evaluation.messages} messages",
        "",
        f"{'kind':<16}{'labelled':>9}{'found':>7}{'precision':>11}{'recall':>8}  target",
    ]
    for score in evaluation.scores:
        labelled = score.true_positives + score.false_negatives
        found = score.true_positives + score.false_positives
        target = TARGETS.get(score.kind)
        verdict = ""
        if target is not None:
            met = score.precision >= target[0] and score.recall >= target[1]
            verdict = f"P>={target[0]} R>={target[1]}: {'met' if met else 'NOT met'}"
        lines.append(
            f"{score.kind:<16}{labelled:>9}{found:>7}{score.precision:>11.3f}"
            f"{score.recall:>8.3f}  {verdict}"
        )
    lines += ["", f"CPU per message: {report.microseconds_per_message:.1f} µs (mean, best round)"]
    if show_misses and evaluation.misses:
        lines += ["", "misses:"]
        for miss in evaluation.misses:
            wanted = ", ".join(f"{s.kind} {s.start}-{s.end}" for s in miss.labelled) or "-"
            got = ", ".join(f"{s.kind} {s.start}-{s.end}" for s in miss.found) or "-"
            lines.append(f"  {miss.text!r}: labelled {wanted}; found {got}")
    return lines
