"""The frustration text model: how frustrated a message's words read, as a probability.

A logistic regression over TF-IDF weighted word uni/bigrams and character n-grams within
words (which catch typos, "soooo", "f***" and word stems), plus VADER's sentiment. Trained
by :mod:`handoff.policy.training` on GoEmotions; this module only scores, and is pure: the
same text and weights always give the same probability. :func:`features` is shared by the
training, so what is learned is exactly what is scored.

The character-bigram table behind :meth:`TextModel.char_log_prob` tells words from keyboard
mashing ("hjkl hjkl", "asdfgh"): the average log-probability of each letter after the one
before it, learned from the same texts.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

# scikit-learn's default token pattern: words of 2+ letters or digits.
_WORD = re.compile(r"\b\w\w+\b")
_SPACES = re.compile(r"\s+")
CHAR_NGRAMS = (1, 4)
# Characters of the bigram table: letters, and one symbol for every other character
# (word edges count too: "q" rarely ends a word).
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER's scores of a text: the model's non-lexical inputs."""

    negative: float  # share of negative words, 0..1
    positive: float
    compound: float  # -1..1

    def values(self) -> tuple[float, float, float, float]:
        return (
            self.negative,
            self.positive,
            max(0.0, -self.compound),
            max(0.0, self.compound),
        )


SENTIMENT_FEATURES = ("negative", "positive", "compound_below_0", "compound_above_0")


def features(text: str) -> Counter[str]:
    """Counts of the text's features: ``w:word``, ``w:two words``, ``c:abc`` (lowercased)."""
    lowered = _SPACES.sub(" ", text.lower())
    found = _WORD.findall(lowered)
    # One list counted once: a Counter update per n-gram size cost a third of the scoring.
    names = [f"w:{word}" for word in found]
    names += [f"w:{a} {b}" for a, b in itertools.pairwise(found)]
    low, high = CHAR_NGRAMS
    for word in lowered.split():
        padded = f" {word} "
        length = len(padded)
        for size in range(low, min(high, length) + 1):
            names += [f"c:{padded[i : i + size]}" for i in range(length - size + 1)]
    return Counter(names)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextModel:
    """Learned weights: per feature its IDF and coefficient; the sentiment coefficients."""

    terms: Mapping[str, tuple[float, float]]  # feature -> (idf, coefficient)
    sentiment: tuple[float, ...]  # one coefficient per SENTIMENT_FEATURES
    intercept: float
    # log P(next | previous) over ALPHABET + one "other" symbol: (27 x 27), row = previous.
    bigram_log_probs: tuple[tuple[float, ...], ...]
    # The words of the support desk's own examples ("hiya", "ttyl"): words, whatever their
    # letters look like.
    support_words: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if len(self.sentiment) != len(SENTIMENT_FEATURES):
            raise ValueError(f"sentiment: expected {len(SENTIMENT_FEATURES)} coefficients")
        size = len(ALPHABET) + 1
        if len(self.bigram_log_probs) != size or any(
            len(row) != size for row in self.bigram_log_probs
        ):
            raise ValueError(f"bigram_log_probs: expected a {size} x {size} table")

    def probability(self, text: str, sentiment: Sentiment) -> float:
        """P(frustrated | text), 0..1."""
        return _sigmoid(self.logit(text, sentiment))

    def logit(self, text: str, sentiment: Sentiment) -> float:
        """log(P / (1 - P)) of :meth:`probability` (the meaning head reads it)."""
        terms = self.terms
        total = squares = 0.0
        for name, count in features(text).items():
            term = terms.get(name)
            if term is not None:
                idf, coefficient = term
                value = idf if count == 1 else (1.0 + math.log(count)) * idf
                total += value * coefficient
                squares += value * value
        z = self.intercept + total / (math.sqrt(squares) or 1.0)
        return z + sum(w * v for w, v in zip(self.sentiment, sentiment.values(), strict=True))

    def char_log_prob(self, text: str) -> float | None:
        """The mean log-probability of the text's letter transitions (None: too few letters).

        English words sit around -2.3; keyboard mashing well below -3.5.
        """
        symbols = char_symbols(text)
        pairs = [(a, b) for a, b in itertools.pairwise(symbols) if (a, b) != (26, 26)]
        letters = sum(1 for symbol in symbols if symbol < 26)
        if letters < 3 or not pairs:
            return None
        return sum(self.bigram_log_probs[a][b] for a, b in pairs) / len(pairs)

    def known_word_share(self, text: str) -> float | None:
        """The share of the text's words seen in training (None: no words)."""
        found = words(text)
        if not found:
            return None
        known = sum(1 for word in found if f"w:{word}" in self.terms or word in self.support_words)
        return known / len(found)


def words(text: str) -> list[str]:
    """The text's words as the model reads them (lowercased, 2+ letters or digits)."""
    return _WORD.findall(_SPACES.sub(" ", text.lower()))


def char_symbols(text: str) -> list[int]:
    """The text as bigram-table indexes (0-25 letters, 26 anything else), framed by edges."""
    other = len(ALPHABET)
    return [other, *(_index(char, other) for char in text.lower()), other]


def _index(char: str, other: int) -> int:
    position = ALPHABET.find(char)
    return position if position >= 0 else other


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


__all__ = [
    "ALPHABET",
    "CHAR_NGRAMS",
    "SENTIMENT_FEATURES",
    "Sentiment",
    "TextModel",
    "char_symbols",
    "features",
    "words",
]
