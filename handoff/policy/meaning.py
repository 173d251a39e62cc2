"""The frustration model's second reading: what a message means, not only its words.

A sentence encoder (all-MiniLM-L6-v2 in the service, injected through
:class:`SentenceEncoder`) turns the message into a unit-length vector; a logistic
regression (:class:`MeaningHead`) reads that vector beside the words model's logit
(:meth:`~handoff.policy.textmodel.TextModel.logit`) and VADER's sentiment::

    P(frustrated | text) = sigmoid(intercept + embedding . vector
                                   + words * words_logit + sentiment . vader)

The words model learns Reddit's vocabulary; the embedding carries the meaning ("the
package never arrived and nobody answers" reads like other complaints whatever its words),
so the two together rank GoEmotions dev better than either (AUROC 0.846 -> 0.862). Trained
by :mod:`handoff.policy.training` on the words model's out-of-fold logits; pure numpy here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from handoff.policy.textmodel import SENTIMENT_FEATURES, Sentiment

Vectors = NDArray[np.float32]


class SentenceEncoder(Protocol):
    """Texts to unit-length vectors, one row per text (``nlu.minilm`` implements it)."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MeaningHead:
    """Learned weights over the sentence vector, the words model's logit and VADER."""

    encoder: str  # the encoder the weights were trained with, e.g. "all-MiniLM-L6-v2"
    embedding: NDArray[np.float64]  # one coefficient per dimension of the vector
    words: float  # the words model's logit's coefficient
    sentiment: tuple[float, ...]  # one coefficient per SENTIMENT_FEATURES
    intercept: float

    def __post_init__(self) -> None:
        if len(self.sentiment) != len(SENTIMENT_FEATURES):
            raise ValueError(f"sentiment: expected {len(SENTIMENT_FEATURES)} coefficients")
        if self.embedding.ndim != 1 or not len(self.embedding):
            raise ValueError("embedding: expected one coefficient per dimension")

    @property
    def dimensions(self) -> int:
        return len(self.embedding)

    def logit(self, vector: Vectors, words_logit: float, sentiment: Sentiment) -> float:
        z = self.intercept + float(np.dot(self.embedding, vector)) + self.words * words_logit
        return z + sum(w * v for w, v in zip(self.sentiment, sentiment.values(), strict=True))

    def probability(self, vector: Vectors, words_logit: float, sentiment: Sentiment) -> float:
        """P(frustrated | text), 0..1."""
        z = self.logit(vector, words_logit, sentiment)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


@runtime_checkable
class KeepsReadings(Protocol):
    """An encoder that keeps the vectors of the texts it read last (``nlu.minilm`` does)."""

    def kept(self, text: str) -> Vectors | None:
        """``text``'s kept vector, or None when it would have to be encoded."""
        ...


def dimensions_of(encoder: SentenceEncoder) -> int:
    """How long the encoder's vectors are (one short text encoded)."""
    return int(encoder.encode(["hello"]).shape[1])


__all__ = ["KeepsReadings", "MeaningHead", "SentenceEncoder", "Vectors", "dimensions_of"]
