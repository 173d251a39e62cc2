"""Training an NLU model with Rasa, keeping the last good model when training fails."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.environment import RasaEnvironment
from nlu.errors import TrainingError
from nlu.models import ModelStore
from nlu.process import run_streaming
from nlu.semantic import training_texts
from nlu.snapshots import write_snapshot

logger = logging.getLogger(__name__)

_COMPONENT = re.compile(r"(Starting|Finished) (?:to )?train(?:ing)? component '([^']+)'")
# Rasa's own log format: "2026-11-21 08:37:44 INFO     rasa.engine...  - message".
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\w+)\s+\S+\s+-\s+(.*)$")


@dataclass(frozen=True, slots=True)
class TrainedModel:
    path: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a training run, for a progress display."""

    step: int
    total: int | None
    message: str


def training_fingerprint(config_file: Path, data_dir: Path) -> str:
    """A digest of the pipeline and every data file: equal digests train equal models."""
    digest = hashlib.sha256(b"config\0" + config_file.read_bytes())
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        digest.update(b"\0" + str(path.relative_to(data_dir)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


async def train_model(
    *,
    environment: RasaEnvironment,
    config_file: Path,
    data_dir: Path,
    store: ModelStore,
    on_progress: Callable[[Progress], None],
    on_output: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Train from ``data_dir`` with ``config_file``; install the model as current on success,
    with the examples it was trained on beside it (the embedding model is refitted on them)."""
    environment.require_ready()
    steps = _training_steps(config_file)
    fingerprint = training_fingerprint(config_file, data_dir)
    # Read with the fingerprint, before Rasa starts: a `tandem nlu learn` during training
    # must not put an example in the snapshot that the model never saw.
    examples = training_texts(data_dir)
    started = time.monotonic()
    finished = 0

    def follow(line: str) -> None:
        nonlocal finished
        if on_output is not None:
            on_output(line)
        match = _COMPONENT.search(line)
        if match and match.group(1) == "Starting":
            on_progress(Progress(finished + 1, steps, f"training {match.group(2)}"))
        elif match:
            finished += 1

    name = ModelStore.new_model_name()
    with store.training_slot() as staging:
        completed = await run_streaming(
            [
                environment.rasa,
                "train",
                "nlu",
                "--config",
                config_file,
                "--nlu",
                data_dir,
                "--out",
                staging,
                "--fixed-model-name",
                name,
            ],
            on_line=follow,
            cwd=staging,
        )
        trained = staging / f"{name}.tar.gz"
        if completed.returncode != 0 or not trained.is_file():
            raise TrainingError(
                f"rasa train failed (exit {completed.returncode}); the last good model is kept. "
                + _explain(completed.tail)
            )
        # The last step, whatever Rasa logged before it: a display always ends complete.
        on_progress(Progress(steps or finished + 1, steps, "saving the model"))
        write_snapshot(trained, examples)
        installed = store.install(trained, fingerprint=fingerprint)
    seconds = time.monotonic() - started
    # The caller says it (once, in its own words); a debug log keeps it for the record.
    logger.debug("trained %s in %.1f s", installed.name, seconds)
    return TrainedModel(path=installed, seconds=seconds)


def _training_steps(config_file: Path) -> int | None:
    """How many steps a training run shows, for "step 3 of 7": each component Rasa trains
    (every one but the tokenizers, which have nothing to learn and log no training), then
    saving the model. None if the file is unusual."""
    try:
        pipeline = yaml.safe_load(config_file.read_text(encoding="utf-8")).get("pipeline")
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    if not isinstance(pipeline, list):
        return None
    names = [str(c.get("name", "")) if isinstance(c, dict) else "" for c in pipeline]
    return sum(1 for name in names if not name.endswith("Tokenizer")) + 1


def _explain(tail: tuple[str, ...]) -> str:
    """The lines of Rasa's output that say what went wrong, without its tracebacks."""
    errors = []
    for line in tail:
        match = _LOG_LINE.match(line)
        if match and match.group(1) in {"ERROR", "CRITICAL"}:
            errors.append(match.group(2))
        elif line.startswith(("rasa.", "ValueError", "InvalidConfigException", "YamlException")):
            errors.append(line)
    if not errors:
        errors = [line for line in tail if not line.startswith((" ", "Traceback"))][-5:]
    return "Rasa said: " + " | ".join(errors[-5:]) if errors else "Rasa printed nothing."
