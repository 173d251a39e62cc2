"""The training examples a model was trained on, kept beside it: the embedding model
(:mod:`nlu.semantic`) is refitted from them when the service loads that model, so Rasa
and the embeddings know the same examples even after ``nlu/data`` has moved on.

A JSON file ``nlu-<timestamp>.examples.json`` next to ``nlu-<timestamp>.tar.gz`` (the
name is :meth:`nlu.models.ModelStore.examples_file`'s), written by ``tandem nlu train``.
Models trained before it was written have none: their examples come from ``nlu/data``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from nlu.errors import NluError
from nlu.models import ModelStore
from nlu.semantic import LabelledText, training_texts

logger = logging.getLogger(__name__)

_VERSION = 1


class SnapshotError(NluError):
    """An examples file that cannot be read (corrupt, or of an unknown version)."""


class _Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    intent: str
    text: str


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    version: int
    examples: tuple[_Example, ...]


def write_snapshot(model: Path, examples: Sequence[LabelledText]) -> Path:
    """Write the examples beside ``model`` (atomically: a reader sees all or nothing)."""
    target = ModelStore.examples_file(model)
    body = {
        "version": _VERSION,
        "examples": [{"intent": e.intent, "text": e.text} for e in examples],
    }
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(temporary, target)
    return target


def read_snapshot(model: Path) -> list[LabelledText] | None:
    """The examples ``model`` was trained on; None if it has no examples file.
    Raises :class:`SnapshotError` for a file that cannot be read."""
    path = ModelStore.examples_file(model)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    try:
        snapshot = _Snapshot.model_validate_json(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        raise SnapshotError(f"{path} is not an examples file: {problem}") from None
    if snapshot.version != _VERSION:
        raise SnapshotError(f"{path} has version {snapshot.version}; this Tandem reads {_VERSION}")
    return [LabelledText(e.text, e.intent) for e in snapshot.examples]


def examples_of(model: Path | None, data_dir: Path) -> list[LabelledText]:
    """The examples ``model`` was trained on, or, where it has none (trained before
    examples were kept, or the file is unreadable: a warning says so), ``data_dir``'s."""
    if model is not None:
        try:
            examples = read_snapshot(model)
        except SnapshotError as exc:
            logger.warning("%s; the embedding model is fitted on %s instead", exc, data_dir)
        else:
            if examples is not None:
                return examples
            logger.warning(
                "model %s has no examples file (trained before Tandem kept one); the "
                "embedding model is fitted on %s instead",
                model.name,
                data_dir,
            )
    return training_texts(data_dir) if data_dir.is_dir() else []
