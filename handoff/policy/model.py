"""What the policy decides on (:class:`Turn`) and what it decides (:class:`Decision`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from handoff.policy.frustration import Frustration
from handoff.policy.meaning import Vectors


class Action(StrEnum):
    ANSWER = "answer"  # the bot answers the intent
    CLARIFY = "clarify"  # the bot asks to rephrase and offers the "Talk to a person" button
    HANDOFF = "handoff"  # a person takes over


class ReasonCode(StrEnum):
    # The turn failed: the bot did not understand, or its last answer did not help.
    LOW_CONFIDENCE = "low_confidence"
    AMBIGUOUS = "ambiguous"
    NOT_HELPFUL = "not_helpful"
    REPEATED_INTENT = "repeated_intent"
    OUT_OF_SCOPE = "out_of_scope"
    GIBBERISH = "gibberish"  # keyboard mashing: letters in an order no language uses
    # Hand off; in order of priority (HANDOFF_PRIORITY).
    PERSON_REQUESTED = "person_requested"
    HUMAN_ONLY_TOPIC = "human_only_topic"
    FRUSTRATED = "frustrated"
    NLU_UNAVAILABLE = "nlu_unavailable"
    FAILED_TURNS = "failed_turns"
    # Tandem itself failed while handling the customer's message (never decided by policy).
    SERVICE_ERROR = "service_error"


# The primary reason of a handoff is the first of these that fired: what the customer asked
# for outranks what the bot inferred, and an inference about the customer outranks one
# about the bot.
HANDOFF_PRIORITY: tuple[ReasonCode, ...] = (
    ReasonCode.PERSON_REQUESTED,
    ReasonCode.HUMAN_ONLY_TOPIC,
    ReasonCode.FRUSTRATED,
    ReasonCode.NLU_UNAVAILABLE,
    ReasonCode.FAILED_TURNS,
)

FAILURE_CODES = frozenset(
    {
        ReasonCode.LOW_CONFIDENCE,
        ReasonCode.AMBIGUOUS,
        ReasonCode.NOT_HELPFUL,
        ReasonCode.REPEATED_INTENT,
        ReasonCode.OUT_OF_SCOPE,
        ReasonCode.GIBBERISH,
    }
)


@dataclass(frozen=True, slots=True)
class IntentGuess:
    """One intent the NLU considered, and how sure it was (``nlu.client.IntentScore``'s shape;
    the policy does not import the NLU client)."""

    name: str
    confidence: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise ValueError(f"confidence of {self.name!r}: expected 0..1, got {self.confidence}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One customer message, with what the engine remembers of the conversation so far."""

    text: str
    ranking: tuple[IntentGuess, ...] | None  # best first; None: the NLU was unavailable
    person_requested: bool = False  # "Talk to a person" pressed, or /human sent
    failed_turns: int = 0  # consecutive failed turns before this one
    last_answered_intent: str | None = None  # None: the previous turn was not answered
    previous_texts: tuple[str, ...] = ()  # the customer's recent earlier messages, newest last
    # How close the message comes to the nearest training example of the top intent (cosine
    # similarity of sentence embeddings); None: not measured.
    example_similarity: float | None = None
    # The message's sentence vector for the frustration model (FrustrationDetector.read_meaning),
    # read off the event loop; None: the detector reads it itself (or does not read one).
    meaning: Vectors | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.failed_turns < 0:
            raise ValueError(f"failed_turns: expected 0 or more, got {self.failed_turns}")
        if self.ranking is not None:
            ranking = tuple(self.ranking)
            confidences = [guess.confidence for guess in ranking]
            if confidences != sorted(confidences, reverse=True):
                raise ValueError("ranking: expected intents best first")
            object.__setattr__(self, "ranking", ranking)
        object.__setattr__(self, "previous_texts", tuple(self.previous_texts))

    @property
    def top(self) -> IntentGuess | None:
        return self.ranking[0] if self.ranking else None

    @property
    def runner_up(self) -> IntentGuess | None:
        return self.ranking[1] if self.ranking and len(self.ranking) > 1 else None


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired, in words for people and numbers for analysis."""

    code: ReasonCode
    explanation: str  # e.g. "top intent confidence 0.41 is below the threshold 0.55"
    # Read-only; excluded from the hash, since a mapping has none.
    numbers: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A private copy: the caller's dict may change later, the reason must not.
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))

    def to_record(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "explanation": self.explanation,
            "numbers": {name: _json_number(value) for name, value in self.numbers.items()},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to do with a turn, and every reason for it."""

    action: Action
    intent: str | None  # the intent to answer when ANSWER; None otherwise
    failed_turns: int  # consecutive failed turns including this one (0 after an answer)
    reasons: tuple[Reason, ...]  # every rule that fired
    frustration: Frustration
    handoff_reason: ReasonCode | None  # the primary reason when HANDOFF, by HANDOFF_PRIORITY

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict for the database (plain str, int, float, list, dict, None)."""
        return {
            "action": self.action.value,
            "intent": self.intent,
            "failed_turns": self.failed_turns,
            "handoff_reason": self.handoff_reason.value if self.handoff_reason else None,
            "reasons": [reason.to_record() for reason in self.reasons],
            "frustration": {
                "score": _json_number(self.frustration.score),
                "frustrated": self.frustration.frustrated,
                "sentiment": _json_number(self.frustration.sentiment),
                "model_probability": _json_number(self.frustration.model_probability),
                "cues": list(self.frustration.cues),
            },
        }


def _json_number(value: float) -> float | None:
    # JSON has no NaN or infinity; PostgreSQL's JSONB rejects them.
    return round(float(value), 4) if math.isfinite(value) else None
