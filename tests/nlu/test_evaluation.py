"""Reading Rasa's intent report, printing it, and running ``rasa test nlu``.

``evaluate`` runs against a stand-in ``rasa`` executable (a small Python script in a folder
made to look like a ready Rasa environment) that writes the report real Rasa would write.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from nlu.environment import RasaEnvironment, constraints_digest
from nlu.errors import EvaluationError, RasaEnvironmentError
from nlu.evaluation import (
    Confusion,
    EvaluationReport,
    IntentMetrics,
    evaluate,
    format_report,
    parse_intent_report,
)

# The shape of Rasa 3.6's results/intent_report.json.
INTENT_REPORT: dict[str, Any] = {
    "billing_invoice": {
        "precision": 0.8,
        "recall": 0.8888888888888888,
        "f1-score": 0.8421052631578948,
        "support": 9,
        "confused_with": {"billing_refund": 1},
    },
    "billing_refund": {
        "precision": 0.875,
        "recall": 0.7,
        "f1-score": 0.7777777777777777,
        "support": 10,
        "confused_with": {"billing_invoice": 2, "order_cancel": 1},
    },
    "greet": {
        "precision": 1.0,
        "recall": 1.0,
        "f1-score": 1.0,
        "support": 6,
        "confused_with": {},
    },
    "order_status": {
        "precision": 0.9166666666666666,
        "recall": 1.0,
        "f1-score": 0.9565217391304348,
        "support": 11,
        "confused_with": {},
    },
    "order_cancel": {
        "precision": 0.8333333333333334,
        "recall": 0.8333333333333334,
        "f1-score": 0.8333333333333334,
        "support": 6,
        "confused_with": {"order_status": 1},
    },
    "accuracy": 0.8809523809523809,
    "macro avg": {
        "precision": 0.885,
        "recall": 0.8844444444444445,
        "f1-score": 0.8819476226798882,
        "support": 42,
    },
    "weighted avg": {
        "precision": 0.8831349206349206,
        "recall": 0.8809523809523809,
        "f1-score": 0.8794312693314393,
        "support": 42,
    },
    "micro avg": {
        "precision": 0.8809523809523809,
        "recall": 0.8809523809523809,
        "f1-score": 0.8809523809523809,
        "support": 42,
    },
}

FAKE_RASA = """#!{python}
# Stands in for `rasa test nlu`: does what behaviour.json next to it says.
import json
import pathlib
import sys

here = pathlib.Path(__file__).parent
behaviour = json.loads((here / "behaviour.json").read_text())
args = sys.argv[1:]
(here / "argv.json").write_text(json.dumps(args))
for line in behaviour["lines"]:
    print(line)
if behaviour["report"] is not None:
    out = pathlib.Path(args[args.index("--out") + 1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "intent_report.json").write_text(json.dumps(behaviour["report"]))
sys.exit(behaviour["exit"])
"""


def ready_environment(path: Path) -> RasaEnvironment:
    """A folder that passes ``is_ready``: a ``bin/rasa`` and the marker of these pins."""
    environment = RasaEnvironment(path)
    environment.rasa.parent.mkdir(parents=True)
    environment.rasa.write_text(FAKE_RASA.format(python=sys.executable), encoding="utf-8")
    environment.rasa.chmod(environment.rasa.stat().st_mode | stat.S_IXUSR)
    (path / ".tandem-ready").write_text(constraints_digest() + "\n", encoding="utf-8")
    assert environment.is_ready()
    return environment


def behave(
    environment: RasaEnvironment,
    *,
    report: dict[str, Any] | None,
    exit_code: int = 0,
    lines: tuple[str, ...] = (),
) -> None:
    behaviour = {"report": report, "exit": exit_code, "lines": list(lines)}
    (environment.path / "bin" / "behaviour.json").write_text(json.dumps(behaviour))


def argv_seen(environment: RasaEnvironment) -> list[str]:
    seen: list[str] = json.loads((environment.path / "bin" / "argv.json").read_text())
    return seen


# --- parse_intent_report ----------------------------------------------------------------


def test_parse_intent_report() -> None:
    report = parse_intent_report(INTENT_REPORT, method="held-out test")

    assert report.method == "held-out test"
    assert report.accuracy == pytest.approx(0.8809523809523809)
    assert report.macro_f1 == pytest.approx(0.8819476226798882)
    assert report.weighted_f1 == pytest.approx(0.8794312693314393)
    assert report.examples == 42
    assert report.intents == (
        IntentMetrics("billing_invoice", 0.8, 0.8888888888888888, 0.8421052631578948, 9),
        IntentMetrics("billing_refund", 0.875, 0.7, 0.7777777777777777, 10),
        IntentMetrics("greet", 1.0, 1.0, 1.0, 6),
        IntentMetrics(
            "order_cancel", 0.8333333333333334, 0.8333333333333334, 0.8333333333333334, 6
        ),
        IntentMetrics("order_status", 0.9166666666666666, 1.0, 0.9565217391304348, 11),
    )


def test_confusions_most_frequent_first() -> None:
    report = parse_intent_report(INTENT_REPORT, method="m")

    assert report.confusions == (
        Confusion(expected="billing_refund", predicted="billing_invoice", count=2),
        Confusion(expected="billing_invoice", predicted="billing_refund", count=1),
        Confusion(expected="billing_refund", predicted="order_cancel", count=1),
        Confusion(expected="order_cancel", predicted="order_status", count=1),
    )


def test_report_without_accuracy_uses_micro_avg() -> None:
    without_accuracy = {key: value for key, value in INTENT_REPORT.items() if key != "accuracy"}
    without_accuracy["micro avg"] = {**INTENT_REPORT["micro avg"], "f1-score": 0.75}

    report = parse_intent_report(without_accuracy, method="m")

    assert report.accuracy == pytest.approx(0.75)
    assert len(report.intents) == 5


def test_rows_without_confused_with() -> None:
    plain = {
        name: {key: value for key, value in row.items() if key != "confused_with"}
        if isinstance(row, dict)
        else row
        for name, row in INTENT_REPORT.items()
    }

    report = parse_intent_report(plain, method="m")

    assert report.confusions == ()
    assert len(report.intents) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"greet": {"precision": 1.0, "f1-score": 1.0, "support": 6}},  # no recall
        {"greet": 0.9},  # a number where a row belongs
        {"greet": {**INTENT_REPORT["greet"], "support": "six"}},
        {"greet": {**INTENT_REPORT["greet"], "confused_with": {"order_status": "many"}}},
        {"macro avg": None},
        {"accuracy": None, "micro avg": None},  # neither accuracy nor its stand-in
    ],
)
def test_malformed_report(change: dict[str, Any]) -> None:
    malformed = {**INTENT_REPORT, **change}
    malformed = {key: value for key, value in malformed.items() if value is not None}

    with pytest.raises(EvaluationError, match="unexpected shape"):
        parse_intent_report(malformed, method="m")


def test_weighted_avg_missing_is_malformed() -> None:
    malformed = {key: value for key, value in INTENT_REPORT.items() if key != "weighted avg"}

    with pytest.raises(EvaluationError, match="weighted avg") as caught:
        parse_intent_report(malformed, method="m")

    assert isinstance(caught.value.__cause__, KeyError)


# --- format_report ----------------------------------------------------------------------


def test_format_report() -> None:
    lines = format_report(parse_intent_report(INTENT_REPORT, method="5-fold cross-validation"))
    text = "\n".join(lines)

    assert lines[0] == "Evaluation: 5-fold cross-validation"
    assert "accuracy 0.881" in lines[1]
    assert "macro F1 0.882" in lines[1]
    assert "weighted F1 0.879" in lines[1]
    assert "(42 examples)" in lines[1]
    for name, row in INTENT_REPORT.items():
        if name in {"accuracy", "macro avg", "weighted avg", "micro avg"}:
            continue
        [intent_line] = [line for line in lines if line.split()[:1] == [name]]
        assert intent_line.split()[1:] == [
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1-score']:.3f}",
            str(row["support"]),
        ]
    assert "Most frequent confusions (expected -> predicted):" in lines
    confusion_lines = lines[lines.index("Most frequent confusions (expected -> predicted):") + 1 :]
    assert [line.split() for line in confusion_lines] == [
        ["2", "billing_refund", "->", "billing_invoice"],
        ["1", "billing_invoice", "->", "billing_refund"],
        ["1", "billing_refund", "->", "order_cancel"],
        ["1", "order_cancel", "->", "order_status"],
    ]
    assert "No confusions." not in text


def test_format_report_limits_confusions() -> None:
    lines = format_report(parse_intent_report(INTENT_REPORT, method="m"), top_confusions=1)

    assert lines[-1].split() == ["2", "billing_refund", "->", "billing_invoice"]
    assert not any("order_cancel -> order_status" in line for line in lines)


def test_format_report_without_confusions() -> None:
    report = EvaluationReport(
        method="held-out",
        accuracy=1.0,
        macro_f1=1.0,
        weighted_f1=1.0,
        examples=3,
        intents=(IntentMetrics("greet", 1.0, 1.0, 1.0, 3),),
        confusions=(),
    )

    lines = format_report(report)

    assert lines[-1] == "No confusions."
    assert not any("confusions (" in line for line in lines)
    assert "accuracy 1.000" in lines[1]


# --- evaluate ---------------------------------------------------------------------------


async def test_cross_validation_needs_config_and_data(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")

    with pytest.raises(EvaluationError, match="cross-validation needs"):
        await evaluate(
            environment=environment, on_output=print, train_data=tmp_path / "data", folds=5
        )
    with pytest.raises(EvaluationError, match="cross-validation needs"):
        await evaluate(
            environment=environment, on_output=print, config_file=tmp_path / "c.yml", folds=5
        )
    assert not (environment.path / "bin" / "argv.json").exists()  # rasa never ran


async def test_held_out_test_needs_model_and_data(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")

    with pytest.raises(EvaluationError, match="held-out test needs"):
        await evaluate(environment=environment, on_output=print, test_data=tmp_path / "t.yml")
    with pytest.raises(EvaluationError, match="held-out test needs"):
        await evaluate(environment=environment, on_output=print, model=tmp_path / "m.tar.gz")
    assert not (environment.path / "bin" / "argv.json").exists()


async def test_evaluate_needs_a_ready_environment(tmp_path: Path) -> None:
    with pytest.raises(RasaEnvironmentError, match="tandem nlu setup"):
        await evaluate(
            environment=RasaEnvironment(tmp_path / "nothing"),
            on_output=print,
            model=tmp_path / "m.tar.gz",
            test_data=tmp_path / "t.yml",
        )


async def test_held_out_evaluation(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")
    behave(environment, report=INTENT_REPORT, lines=("Running model for predictions:", ""))
    model, test_data = tmp_path / "nlu-20261121-083744-000001.tar.gz", tmp_path / "test.yml"
    output: list[str] = []

    report = await evaluate(
        environment=environment, on_output=output.append, model=model, test_data=test_data
    )

    assert report == parse_intent_report(INTENT_REPORT, method=report.method)
    assert report.method == (
        f"held-out test set {test_data} with model nlu-20261121-083744-000001.tar.gz"
    )
    assert output == ["Running model for predictions:"]
    argv = argv_seen(environment)
    assert argv[:3] == ["test", "nlu", "--out"]
    assert argv[4:] == ["--nlu", str(test_data), "--model", str(model)]


async def test_cross_validation(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")
    behave(environment, report=INTENT_REPORT)
    config_file, train_data = tmp_path / "config.yml", tmp_path / "data"

    report = await evaluate(
        environment=environment,
        on_output=print,
        config_file=config_file,
        train_data=train_data,
        folds=3,
    )

    assert report.method == f"3-fold cross-validation on {train_data}"
    assert report.examples == 42
    assert argv_seen(environment)[4:] == [
        "--nlu",
        str(train_data),
        "--config",
        str(config_file),
        "--cross-validation",
        "--folds",
        "3",
    ]


async def test_failed_rasa_test_reports_its_last_lines(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")
    lines = tuple(f"line {n}" for n in range(1, 9))
    behave(environment, report=None, exit_code=1, lines=lines)

    with pytest.raises(EvaluationError) as caught:
        await evaluate(
            environment=environment,
            on_output=print,
            model=tmp_path / "m.tar.gz",
            test_data=tmp_path / "t.yml",
        )

    assert str(caught.value) == (
        "rasa test failed (exit 1): line 4 | line 5 | line 6 | line 7 | line 8"
    )


async def test_successful_exit_without_a_report_is_a_failure(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "rasa")
    behave(environment, report=None, exit_code=0, lines=("nothing to test",))

    with pytest.raises(EvaluationError, match=r"exit 0\): nothing to test"):
        await evaluate(
            environment=environment,
            on_output=print,
            model=tmp_path / "m.tar.gz",
            test_data=tmp_path / "t.yml",
        )
