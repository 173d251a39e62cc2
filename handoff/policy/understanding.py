"""Checks of a turn beyond one confidence threshold: gibberish, weak human-only topics, and
a customer saying the bot is not helping.

Each returns the :class:`Reason` for a failed turn, or None. Pure, like :mod:`.decision`.
"""

from __future__ import annotations

import math

from handoff.policy import cues
from handoff.policy.config import PolicyConfig
from handoff.policy.model import IntentGuess, Reason, ReasonCode, Turn
from handoff.policy.textmodel import TextModel


def gibberish(text: str, model: TextModel, config: PolicyConfig) -> Reason | None:
    """Keyboard mashing ("hjkl hjkl", "asdfgh"): letters in an order no language uses.

    The NLU still names an intent for it (often confidently), so the rule must come first.
    Words the model knows are never gibberish, however their letters run ("ttyl", "hiya").
    """
    log_prob = model.char_log_prob(text)
    if log_prob is None or log_prob >= config.gibberish_log_prob:
        return None
    known = model.known_word_share(text)
    if known is not None and known >= 0.5:
        return None
    return Reason(
        ReasonCode.GIBBERISH,
        f"the letters read as gibberish (mean letter log-probability {log_prob:.2f}, "
        f"below {config.gibberish_log_prob:.2f})",
        {"char_log_prob": log_prob, "limit": config.gibberish_log_prob},
    )


def strong_human_only(turn: Turn, config: PolicyConfig) -> bool:
    """A human-only topic hands off at once only when the NLU is sure of it: at least
    ``human_only_threshold`` and ``human_only_margin`` ahead of the runner-up."""
    top, runner_up = turn.top, turn.runner_up
    if top is None or top.name not in config.human_only_intents:
        return False
    gap = top.confidence - (runner_up.confidence if runner_up else 0.0)
    return top.confidence >= config.human_only_threshold - 1e-9 and gap >= (
        config.human_only_margin - 1e-9
    )


def weak_human_only(turn: Turn, config: PolicyConfig) -> Reason | None:
    """A human-only topic the NLU is not sure enough of: ask again rather than hand off a
    Reddit comment about HDMI as a legal request, or answer it."""
    top = turn.top
    if top is None or top.name not in config.human_only_intents or strong_human_only(turn, config):
        return None
    runner_up = turn.runner_up
    second = runner_up.confidence if runner_up else 0.0
    return Reason(
        ReasonCode.LOW_CONFIDENCE,
        f"{_said(top)} is a human-only topic, which needs {config.human_only_threshold:.2f} "
        f"and a lead of {config.human_only_margin:.2f} (runner-up {second:.2f})",
        {
            "confidence": top.confidence,
            "threshold": config.human_only_threshold,
            "runner_up_confidence": second,
            "margin": config.human_only_margin,
        },
    )


def said_not_helpful(turn: Turn) -> Reason | None:
    """ "That didn't help", "you're not helping": the turn fails whatever the intent, so two
    in a row hand off (a "no" is judged by the intent rules instead)."""
    if not cues.says_not_helpful(turn.text):
        return None
    return Reason(ReasonCode.NOT_HELPFUL, "the customer said the bot is not helping")


def _said(guess: IntentGuess) -> str:
    return f"{guess.name} {guess.confidence:.2f}"


def spread_out(turn: Turn, config: PolicyConfig) -> Reason | None:
    """The NLU's ranking is spread over many intents (its entropy in bits is above
    ``max_ranking_entropy``): out-of-scope queries look like that even when the top intent
    clears the confidence threshold. The mass beyond the ranking counts as one more intent.
    """
    limit = config.max_ranking_entropy
    if limit is None or not turn.ranking:
        return None
    bits = ranking_entropy(turn.ranking)
    if bits <= limit + 1e-9:
        return None
    return Reason(
        ReasonCode.AMBIGUOUS,
        f"the NLU's ranking is spread out (entropy {bits:.2f} bits, above {limit:.2f})",
        {"entropy": bits, "max_entropy": limit},
    )


def far_from_examples(turn: Turn, config: PolicyConfig) -> Reason | None:
    """The message reads like none of the top intent's training examples and the NLU is not
    sure of it either: their scope score, the cosine similarity of the message's embedding
    to the nearest example plus ``scope_confidence_weight`` times the top confidence, is
    below ``min_scope_score``. The NLU must name an intent it knows however unlike them
    the message is; either signal alone lets through what the other catches. (A fallback
    intent at the top is out of scope anyway, and says so by its name.)"""
    limit, similarity, top = config.min_scope_score, turn.example_similarity, turn.top
    if limit is None or similarity is None or top is None or top.name in config.fallback_intents:
        return None
    weight = config.scope_confidence_weight
    score = similarity + weight * top.confidence
    if score >= limit - 1e-9:
        return None
    return Reason(
        ReasonCode.OUT_OF_SCOPE,
        f"the message is unlike the examples of {top.name}: nearest similarity "
        f"{similarity:.2f} + {weight:.2f} x confidence {top.confidence:.2f} = {score:.2f}, "
        f"below {limit:.2f}",
        {
            "similarity": similarity,
            "confidence": top.confidence,
            "score": score,
            "min_score": limit,
        },
    )


def ranking_entropy(ranking: tuple[IntentGuess, ...]) -> float:
    masses = [guess.confidence for guess in ranking]
    rest = 1.0 - sum(masses)
    if rest > 1e-9:
        masses.append(rest)
    total = sum(masses)
    if total <= 0:
        return 0.0
    return -sum(m / total * math.log2(m / total) for m in masses if m > 0)
