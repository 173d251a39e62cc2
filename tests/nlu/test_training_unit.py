"""Training without Rasa: the fingerprint, progress, error extraction and the subprocess runner.

``train_model`` runs against a stand-in ``rasa`` executable (a small Python script in a
folder made to look like a ready Rasa environment) that prints Rasa-style progress lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from nlu.environment import RasaEnvironment, constraints_digest
from nlu.errors import RasaEnvironmentError, TrainingError
from nlu.models import ModelStore
from nlu.process import TAIL_LINES, run_streaming, strip_ansi
from nlu.training import (
    Progress,
    _explain,
    _training_steps,
    train_model,
    training_fingerprint,
)

CONFIG = Path(__file__).parents[2] / "nlu" / "config.yml"

PIPELINE = """\
recipe: default.v1
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
policies: []
"""

FAKE_RASA = """#!{python}
# Stands in for `rasa train nlu`: does what behaviour.json next to it says.
import json
import pathlib
import sys

here = pathlib.Path(__file__).parent
behaviour = json.loads((here / "behaviour.json").read_text())
args = sys.argv[1:]
(here / "argv.json").write_text(json.dumps(args))
for line in behaviour["lines"]:
    print(line)
if behaviour["write_model"]:
    out = pathlib.Path(args[args.index("--out") + 1])
    name = args[args.index("--fixed-model-name") + 1]
    (out / (name + ".tar.gz")).write_text("trained")
sys.exit(behaviour["exit"])
"""

# As Rasa 3.6 logs it: the tokenizer is not trained.
TRAINING_LINES = [
    "2026-11-21 08:37:41 INFO     rasa.engine.training.hooks  - Starting to train component "
    "'CountVectorsFeaturizer'.",
    "2026-11-21 08:37:42 INFO     rasa.engine.training.hooks  - Finished training component "
    "'CountVectorsFeaturizer'.",
    "2026-11-21 08:37:42 INFO     rasa.engine.training.hooks  - Starting to train component "
    "'LogisticRegressionClassifier'.",
    "2026-11-21 08:37:44 INFO     rasa.engine.training.hooks  - Finished training component "
    "'LogisticRegressionClassifier'.",
    "Your Rasa model is trained and saved at 'models/nlu.tar.gz'.",
]


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A pipeline file and a data folder with a couple of files in it."""
    config_file = tmp_path / "config.yml"
    config_file.write_text(PIPELINE, encoding="utf-8")
    data_dir = tmp_path / "data"
    (data_dir / "more").mkdir(parents=True)
    (data_dir / "orders.yml").write_text("nlu:\n  - intent: order_status\n", encoding="utf-8")
    (data_dir / "more" / "greet.yml").write_text("nlu:\n  - intent: greet\n", encoding="utf-8")
    return config_file, data_dir


def fake_rasa_environment(
    path: Path, *, lines: list[str], exit_code: int = 0, write_model: bool = True
) -> RasaEnvironment:
    environment = RasaEnvironment(path)
    environment.rasa.parent.mkdir(parents=True)
    environment.rasa.write_text(FAKE_RASA.format(python=sys.executable), encoding="utf-8")
    environment.rasa.chmod(environment.rasa.stat().st_mode | stat.S_IXUSR)
    behaviour = {"lines": lines, "exit": exit_code, "write_model": write_model}
    (path / "bin" / "behaviour.json").write_text(json.dumps(behaviour), encoding="utf-8")
    (path / ".tandem-ready").write_text(constraints_digest() + "\n", encoding="utf-8")
    return environment


# --- training_fingerprint ---------------------------------------------------------------


def test_fingerprint_is_stable(project: tuple[Path, Path]) -> None:
    config_file, data_dir = project
    first = training_fingerprint(config_file, data_dir)
    os.utime(data_dir / "orders.yml", (0, 0))  # a touched file with the same content

    assert training_fingerprint(config_file, data_dir) == first
    assert len(first) == 16


def test_fingerprint_changes_when_a_data_file_changes(project: tuple[Path, Path]) -> None:
    config_file, data_dir = project
    before = training_fingerprint(config_file, data_dir)
    (data_dir / "more" / "greet.yml").write_text("nlu:\n  - intent: hello\n", encoding="utf-8")

    assert training_fingerprint(config_file, data_dir) != before


def test_fingerprint_changes_when_a_file_is_added(project: tuple[Path, Path]) -> None:
    config_file, data_dir = project
    before = training_fingerprint(config_file, data_dir)
    (data_dir / "billing.yml").write_text("", encoding="utf-8")

    assert training_fingerprint(config_file, data_dir) != before


def test_fingerprint_changes_when_a_file_is_renamed(project: tuple[Path, Path]) -> None:
    config_file, data_dir = project
    before = training_fingerprint(config_file, data_dir)
    (data_dir / "orders.yml").rename(data_dir / "shipping.yml")

    assert training_fingerprint(config_file, data_dir) != before


def test_fingerprint_changes_with_the_pipeline(project: tuple[Path, Path]) -> None:
    config_file, data_dir = project
    before = training_fingerprint(config_file, data_dir)
    config_file.write_text(PIPELINE.replace("language: en", "language: de"), encoding="utf-8")

    assert training_fingerprint(config_file, data_dir) != before


# --- _training_steps -------------------------------------------------------------------


def test_training_steps_of_the_shipped_config() -> None:
    components = re.findall(r"^  - name: (\w+)", CONFIG.read_text(encoding="utf-8"), re.MULTILINE)
    trained = [name for name in components if not name.endswith("Tokenizer")]

    assert len(trained) > 1
    assert _training_steps(CONFIG) == len(trained) + 1  # then saving the model


def test_training_steps(project: tuple[Path, Path]) -> None:
    assert _training_steps(project[0]) == 3


@pytest.mark.parametrize(
    "content",
    [
        "language: en\n",  # no pipeline
        "pipeline: WhitespaceTokenizer\n",  # not a list
        "",  # empty file
        "- just\n- a list\n",
        "pipeline: [unclosed\n",  # not YAML
    ],
)
def test_training_steps_of_unusual_files(tmp_path: Path, content: str) -> None:
    config_file = tmp_path / "config.yml"
    config_file.write_text(content, encoding="utf-8")

    assert _training_steps(config_file) is None


def test_training_steps_of_a_missing_file(tmp_path: Path) -> None:
    assert _training_steps(tmp_path / "missing.yml") is None


# --- _explain ---------------------------------------------------------------------------


def test_explain_picks_rasas_error_lines() -> None:
    tail = (
        "2026-11-21 08:37:40 INFO     rasa.engine.training.hooks  - Starting to train component",
        "2026-11-21 08:37:44 ERROR    rasa.x  - message",
        "Traceback (most recent call last):",
        '  File "/env/lib/python3.10/site-packages/rasa/__main__.py", line 133, in main',
        "2026-11-21 08:37:45 CRITICAL rasa.engine.graph  - the graph could not be built",
        "2026-11-21 08:37:45 WARNING  rasa.shared.utils.common  - The UnexpecTED warning",
    )

    assert _explain(tail) == "Rasa said: message | the graph could not be built"


def test_explain_picks_exception_lines() -> None:
    tail = (
        "Traceback (most recent call last):",
        '  File "/env/lib/python3.10/site-packages/rasa/engine/graph.py", line 5, in run',
        "rasa.shared.exceptions.InvalidConfigException: Can't load class for name "
        "'WhitespaceTokeniser'.",
    )

    assert _explain(tail) == (
        "Rasa said: rasa.shared.exceptions.InvalidConfigException: Can't load class for name "
        "'WhitespaceTokeniser'."
    )


def test_explain_keeps_the_last_five_errors() -> None:
    tail = tuple(f"2026-11-21 08:37:44 ERROR    rasa.x  - problem {n}" for n in range(1, 8))

    assert _explain(tail) == (
        "Rasa said: problem 3 | problem 4 | problem 5 | problem 6 | problem 7"
    )


def test_explain_without_error_lines_falls_back_to_the_last_plain_lines() -> None:
    tail = (
        "one",
        "two",
        "Traceback (most recent call last):",
        "  File 'x.py', line 1",
        "three",
        "four",
        "five",
        "six",
    )

    assert _explain(tail) == "Rasa said: two | three | four | five | six"


def test_explain_with_no_output() -> None:
    assert _explain(()) == "Rasa printed nothing."


# --- run_streaming ----------------------------------------------------------------------


async def test_run_streaming_strips_ansi_and_returns_the_tail() -> None:
    lines: list[str] = []

    completed = await run_streaming(
        [sys.executable, "-c", "print('a'); print('\\x1b[92mb\\x1b[0m')"], on_line=lines.append
    )

    assert lines == ["a", "b"]
    assert completed.returncode == 0
    assert completed.tail == ("a", "b")


async def test_run_streaming_merges_stderr_skips_blank_lines_and_keeps_the_exit_code() -> None:
    code = (
        "import sys\n"
        "print('out', flush=True)\n"
        "print('', flush=True)\n"
        "print('err', file=sys.stderr, flush=True)\n"
        "sys.exit(3)\n"
    )
    lines: list[str] = []

    completed = await run_streaming([sys.executable, "-c", code], on_line=lines.append)

    assert lines == ["out", "err"]
    assert completed == type(completed)(returncode=3, tail=("out", "err"))


async def test_run_streaming_tail_is_bounded() -> None:
    lines: list[str] = []

    completed = await run_streaming(
        [sys.executable, "-c", "for n in range(100): print(n)"], on_line=lines.append
    )

    assert lines == [str(n) for n in range(100)]
    assert completed.tail == tuple(str(n) for n in range(100 - TAIL_LINES, 100))


async def test_run_streaming_uses_cwd_and_env(tmp_path: Path) -> None:
    (tmp_path / "here.txt").write_text("", encoding="utf-8")
    lines: list[str] = []

    await run_streaming(
        [sys.executable, "-c", "import os; print(os.listdir()); print(os.environ['ONLY'])"],
        on_line=lines.append,
        cwd=tmp_path,
        env={"ONLY": "this"},
    )

    assert lines == ["['here.txt']", "this"]


async def test_run_streaming_default_env_quiets_rasa_and_drops_this_pythons_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("TANDEM_PASSED_THROUGH", "yes")
    code = (
        "import os\n"
        "for key in ('PYTHONPATH', 'TANDEM_PASSED_THROUGH', 'RASA_TELEMETRY_ENABLED'):\n"
        "    print(key, os.environ.get(key))\n"
    )
    lines: list[str] = []

    await run_streaming([sys.executable, "-c", code], on_line=lines.append)

    assert lines == [
        "PYTHONPATH None",
        "TANDEM_PASSED_THROUGH yes",
        "RASA_TELEMETRY_ENABLED false",
    ]


async def test_cancelling_run_streaming_kills_the_command() -> None:
    started = asyncio.Event()
    pids: list[int] = []

    def on_line(line: str) -> None:
        pids.append(int(line))
        started.set()

    code = "import os, time; print(os.getpid(), flush=True); time.sleep(600)"
    task = asyncio.create_task(run_streaming([sys.executable, "-c", code], on_line=on_line))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pids[0], 0)


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[1m\x1b[93mWarning\x1b[0m: slow") == "Warning: slow"


# --- train_model ------------------------------------------------------------------------


async def test_train_model_installs_the_model_and_reports_progress(
    tmp_path: Path, project: tuple[Path, Path]
) -> None:
    config_file, data_dir = project
    environment = fake_rasa_environment(tmp_path / "rasa", lines=TRAINING_LINES)
    store = ModelStore(tmp_path / "models")
    progress: list[Progress] = []
    output: list[str] = []

    trained = await train_model(
        environment=environment,
        config_file=config_file,
        data_dir=data_dir,
        store=store,
        on_progress=progress.append,
        on_output=output.append,
    )

    assert store.current() == trained.path
    assert trained.path.read_text(encoding="utf-8") == "trained"
    assert store.current_fingerprint() == training_fingerprint(config_file, data_dir)
    assert progress == [
        Progress(1, 3, "training CountVectorsFeaturizer"),
        Progress(2, 3, "training LogisticRegressionClassifier"),
        Progress(3, 3, "saving the model"),  # the last step is reached
    ]
    assert output == TRAINING_LINES
    assert trained.seconds >= 0
    argv = json.loads((environment.path / "bin" / "argv.json").read_text(encoding="utf-8"))
    assert argv[:6] == ["train", "nlu", "--config", str(config_file), "--nlu", str(data_dir)]
    assert argv[-2:] == ["--fixed-model-name", trained.path.name.removesuffix(".tar.gz")]
    assert [p.name for p in store.directory.iterdir() if p.name.startswith(".training")] == []


async def test_failed_training_keeps_the_last_good_model(
    tmp_path: Path, project: tuple[Path, Path]
) -> None:
    config_file, data_dir = project
    store = ModelStore(tmp_path / "models")
    store.directory.mkdir()
    good = tmp_path / "nlu-20260101-000000-000000.tar.gz"
    good.write_text("good", encoding="utf-8")
    good = store.install(good, fingerprint="good-fingerprint")
    environment = fake_rasa_environment(
        tmp_path / "rasa",
        lines=[
            TRAINING_LINES[0],
            "2026-11-21 08:37:44 ERROR    rasa.cli.train  - The data contains a conflict.",
        ],
        exit_code=1,
        write_model=False,
    )

    with pytest.raises(TrainingError) as caught:
        await train_model(
            environment=environment,
            config_file=config_file,
            data_dir=data_dir,
            store=store,
            on_progress=lambda _: None,
        )

    assert str(caught.value) == (
        "rasa train failed (exit 1); the last good model is kept. "
        "Rasa said: The data contains a conflict."
    )
    assert store.current() == good
    assert store.current_fingerprint() == "good-fingerprint"
    assert store.models() == [good]


async def test_training_that_exits_cleanly_without_a_model_fails(
    tmp_path: Path, project: tuple[Path, Path]
) -> None:
    config_file, data_dir = project
    environment = fake_rasa_environment(
        tmp_path / "rasa", lines=["Nothing changed."], write_model=False
    )
    store = ModelStore(tmp_path / "models")

    with pytest.raises(TrainingError, match=r"exit 0\).*Rasa said: Nothing changed\."):
        await train_model(
            environment=environment,
            config_file=config_file,
            data_dir=data_dir,
            store=store,
            on_progress=lambda _: None,
        )

    assert store.current() is None


async def test_train_model_needs_a_ready_environment(
    tmp_path: Path, project: tuple[Path, Path]
) -> None:
    config_file, data_dir = project

    with pytest.raises(RasaEnvironmentError, match="tandem nlu setup"):
        await train_model(
            environment=RasaEnvironment(tmp_path / "nothing"),
            config_file=config_file,
            data_dir=data_dir,
            store=ModelStore(tmp_path / "models"),
            on_progress=lambda _: None,
        )
