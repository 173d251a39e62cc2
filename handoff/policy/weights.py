"""The frustration text model's weights on disk: one gzipped JSON file in the package.

``tandem policy train`` writes it from the shipped training data
(``data/goemotions-frustration.tsv.gz``); the service reads it once at start. The file
names the SHA-256 of the data it was trained on, so ``tandem policy train --check`` can
tell weights that belong to other data from weights that merely differ in the last digit.
Beside the words model it keeps the meaning head (:mod:`.meaning`), read when the service
has a sentence encoder.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handoff.policy.errors import WeightsError
from handoff.policy.meaning import MeaningHead
from handoff.policy.textmodel import SENTIMENT_FEATURES, TextModel

DATA_FOLDER = Path(__file__).resolve().parent / "data"
SHIPPED_WEIGHTS = DATA_FOLDER / "frustration-weights.json.gz"
SHIPPED_TRAINING_DATA = DATA_FOLDER / "goemotions-frustration.tsv.gz"
FORMAT = 1
# Digits kept per number: the file stays small, and scores move by less than 1e-4.
_DIGITS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """A trained model and what it was trained on."""

    model: TextModel
    data_sha256: str
    settings: dict[str, Any]
    head: MeaningHead | None = None  # None: trained without a sentence encoder


def dump_weights(weights: Weights, path: Path) -> None:
    model = weights.model
    document = {
        "format": FORMAT,
        "data_sha256": weights.data_sha256,
        "settings": weights.settings,
        "intercept": _round(model.intercept),
        "sentiment": dict(zip(SENTIMENT_FEATURES, map(_round, model.sentiment), strict=True)),
        "bigram_log_probs": [[_round(v) for v in row] for row in model.bigram_log_probs],
        "support_words": sorted(model.support_words),
        "terms": {
            name: [_round(idf), _round(coefficient)]
            for name, (idf, coefficient) in sorted(model.terms.items())
        },
    }
    if weights.head is not None:
        document["head"] = _head_document(weights.head)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # mtime 0: the same weights give the same bytes, so git sees no change.
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))


def load_weights(path: Path = SHIPPED_WEIGHTS) -> Weights:
    """The weights in ``path``; :class:`WeightsError` names what is wrong with the file."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file (run `tandem policy train`)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(f"{path}: cannot read the text model's weights: {exc}") from None
    try:
        if document["format"] != FORMAT:
            raise WeightsError(f"{path}: format {document['format']!r}, expected {FORMAT}")
        model = TextModel(
            terms={name: (float(idf), float(c)) for name, (idf, c) in document["terms"].items()},
            sentiment=tuple(float(document["sentiment"][name]) for name in SENTIMENT_FEATURES),
            intercept=float(document["intercept"]),
            bigram_log_probs=tuple(
                tuple(float(v) for v in row) for row in document["bigram_log_probs"]
            ),
            support_words=frozenset(str(word) for word in document["support_words"]),
        )
        return Weights(
            model=model,
            data_sha256=str(document["data_sha256"]),
            settings=dict(document["settings"]),
            head=_head(document["head"]) if "head" in document else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: malformed weights ({type(exc).__name__}: {exc})") from None


def _head_document(head: MeaningHead) -> dict[str, Any]:
    return {
        "encoder": head.encoder,
        "intercept": _round(head.intercept),
        "words": _round(head.words),
        "sentiment": dict(zip(SENTIMENT_FEATURES, map(_round, head.sentiment), strict=True)),
        "embedding": [_round(float(v)) for v in head.embedding],
    }


def _head(document: dict[str, Any]) -> MeaningHead:
    return MeaningHead(
        encoder=str(document["encoder"]),
        embedding=np.array([float(v) for v in document["embedding"]], dtype=np.float64),
        words=float(document["words"]),
        sentiment=tuple(float(document["sentiment"][name]) for name in SENTIMENT_FEATURES),
        intercept=float(document["intercept"]),
    )


def _round(value: float) -> float:
    return float(f"{value:.{_DIGITS}g}")


@functools.cache
def shipped_weights() -> Weights:
    """The shipped weights, read once per process (every detector shares them)."""
    return load_weights(SHIPPED_WEIGHTS)


def shipped_model() -> TextModel:
    """The shipped words model."""
    return shipped_weights().model
