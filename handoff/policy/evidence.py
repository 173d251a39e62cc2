"""Frustration from evidence: the text model's probability and the signals that fired.

Each piece of evidence is a named signal with a weight; the score is their sum, clipped to
[0, 1], so a handoff record can show the arithmetic: ``text_model:0.81`` (the model's
probability, weighted above ``model_floor``), the lexicon's cues (``insult``,
``harsh_words:useless``) and the conversation's own signals (``long_wait``,
``repeated_message``, ``complaint_intent``, ``after_failed_turn``).
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.policy.config import FrustrationConfig


@dataclass(frozen=True, slots=True)
class Signal:
    name: str  # as the record shows it, e.g. "harsh_words:useless"
    weight: float


@dataclass(frozen=True, slots=True)
class Frustration:
    """How frustrated one message reads, and why."""

    score: float  # 0..1
    frustrated: bool  # score >= the configured threshold
    cues: tuple[str, ...]  # every signal that fired, e.g. ("text_model:0.81", "long_wait")
    sentiment: float  # VADER's compound score, -1..1
    model_probability: float = 0.0  # the text model's P(frustrated), 0..1

    @classmethod
    def calm(cls) -> Frustration:
        """No text, no signal."""
        return cls(score=0.0, frustrated=False, cues=(), sentiment=0.0)


def model_signal(probability: float, words: int, config: FrustrationConfig) -> Signal | None:
    """The text model's evidence: nothing up to ``model_floor``, ``model_weight`` at 1;
    nothing for a message of fewer than ``model_min_words`` words."""
    if words < config.model_min_words:
        return None
    excess = max(0.0, probability - config.model_floor) / (1 - config.model_floor)
    weight = config.model_weight * excess
    return Signal(f"text_model:{probability:.2f}", weight) if weight > 0 else None


def sentiment_signal(compound: float, config: FrustrationConfig) -> Signal | None:
    negativity = max(0.0, -compound - config.sentiment_floor) / (1 - config.sentiment_floor)
    weight = config.sentiment_weight * negativity
    return Signal(f"negative_sentiment:{compound:.2f}", weight) if weight > 0 else None


def combine(
    signals: list[Signal],
    config: FrustrationConfig,
    *,
    sentiment: float,
    probability: float,
) -> Frustration:
    """The score of the signals that fired (those with no weight are left out)."""
    fired = [signal for signal in signals if signal.weight > 0]
    score = min(1.0, max(0.0, sum(signal.weight for signal in fired)))
    return Frustration(
        score=round(score, 4),
        frustrated=score >= config.threshold,
        cues=tuple(signal.name for signal in fired),
        sentiment=sentiment,
        model_probability=round(probability, 4),
    )
