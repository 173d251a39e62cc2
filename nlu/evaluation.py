"""Evaluating an NLU model with ``rasa test nlu``: on held-out data, or by cross-validation."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlu.environment import RasaEnvironment
from nlu.errors import EvaluationError
from nlu.process import run_streaming

_SUMMARY_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


@dataclass(frozen=True, slots=True)
class IntentMetrics:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Confusion:
    expected: str
    predicted: str
    count: int


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """What ``tandem nlu test`` prints."""

    method: str
    accuracy: float
    macro_f1: float
    weighted_f1: float
    examples: int
    intents: tuple[IntentMetrics, ...]
    confusions: tuple[Confusion, ...]  # most frequent first


async def evaluate(
    *,
    environment: RasaEnvironment,
    on_output: Callable[[str], None],
    model: Path | None = None,
    test_data: Path | None = None,
    config_file: Path | None = None,
    train_data: Path | None = None,
    folds: int | None = None,
) -> EvaluationReport:
    """Test ``model`` on ``test_data``, or cross-validate ``config_file`` on ``train_data``."""
    environment.require_ready()
    with tempfile.TemporaryDirectory(prefix="tandem-nlu-test-") as scratch:
        out = Path(scratch) / "results"
        argv: list[str | Path] = [environment.rasa, "test", "nlu", "--out", out]
        if folds is not None:
            if config_file is None or train_data is None:
                raise EvaluationError("cross-validation needs the pipeline and training data")
            argv += ["--nlu", train_data, "--config", config_file, "--cross-validation"]
            argv += ["--folds", str(folds)]
            method = f"{folds}-fold cross-validation on {train_data}"
        else:
            if model is None or test_data is None:
                raise EvaluationError("a held-out test needs a trained model and test data")
            argv += ["--nlu", test_data, "--model", model]
            method = f"held-out test set {test_data} with model {model.name}"
        completed = await run_streaming(argv, on_line=on_output, cwd=Path(scratch))
        report_file = out / "intent_report.json"
        if completed.returncode != 0 or not report_file.is_file():
            raise EvaluationError(
                f"rasa test failed (exit {completed.returncode}): "
                + " | ".join(completed.tail[-5:])
            )
        return parse_intent_report(json.loads(report_file.read_text("utf-8")), method=method)


def parse_intent_report(report: Mapping[str, Any], *, method: str) -> EvaluationReport:
    """Read Rasa's ``intent_report.json`` (scikit-learn's classification report, plus
    ``confused_with`` per intent)."""
    try:
        intents = tuple(
            IntentMetrics(
                intent=name,
                precision=float(row["precision"]),
                recall=float(row["recall"]),
                f1=float(row["f1-score"]),
                support=int(row["support"]),
            )
            for name, row in sorted(report.items())
            if name not in _SUMMARY_ROWS
        )
        confusions = sorted(
            (
                Confusion(expected=name, predicted=other, count=int(count))
                for name, row in report.items()
                if name not in _SUMMARY_ROWS
                for other, count in (row.get("confused_with") or {}).items()
            ),
            key=lambda c: (-c.count, c.expected, c.predicted),
        )
        accuracy = report.get("accuracy")
        if accuracy is None:  # scikit-learn omits it when micro avg stands in
            accuracy = report["micro avg"]["f1-score"]
        return EvaluationReport(
            method=method,
            accuracy=float(accuracy),
            macro_f1=float(report["macro avg"]["f1-score"]),
            weighted_f1=float(report["weighted avg"]["f1-score"]),
            examples=sum(i.support for i in intents),
            intents=intents,
            confusions=tuple(confusions),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EvaluationError(f"Rasa's intent report has an unexpected shape ({exc!r})") from exc


def format_report(report: EvaluationReport, *, top_confusions: int = 10) -> list[str]:
    """The report as the lines ``tandem nlu test`` prints."""
    width = max([len("intent"), *(len(i.intent) for i in report.intents)])
    lines = [
        f"Evaluation: {report.method}",
        f"accuracy {report.accuracy:.3f}   macro F1 {report.macro_f1:.3f}   "
        f"weighted F1 {report.weighted_f1:.3f}   ({report.examples} examples)",
        "",
        f"{'intent':<{width}}  precision  recall     f1  support",
    ]
    lines += [
        f"{i.intent:<{width}}  {i.precision:9.3f}  {i.recall:6.3f}  {i.f1:5.3f}  {i.support:7d}"
        for i in report.intents
    ]
    lines.append("")
    if report.confusions:
        lines.append("Most frequent confusions (expected -> predicted):")
        lines += [
            f"  {c.count:3d}  {c.expected} -> {c.predicted}"
            for c in report.confusions[:top_confusions]
        ]
    else:
        lines.append("No confusions.")
    return lines
