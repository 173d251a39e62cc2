"""The two-turn rule: answer, ask once more, or hand the conversation to a person.

A turn FAILS when the bot did not understand it (low confidence, two intents too close to
call, out of scope) or when it says the previous answer did not help ("no" right after an
answer, or the same question again). One failed turn: the bot asks the customer to
rephrase and offers the "Talk to a person" button. ``max_failed_turns`` in a row: hand off.
A turn the bot understands resets the count.

Some turns hand off at once, whatever the count: the customer asks for a person, the topic
is one only people handle, the customer is frustrated, or the NLU is down.

Fine print:

- at the boundaries, a confidence equal to ``confidence_threshold`` is confident and a gap
  equal to ``ambiguity_margin`` is not ambiguous;
- the rules about an intent (asking for a person, a human-only topic, "no" after an answer,
  the same question again, the complaint intent for frustration) need the NLU to be
  confident of it; ``out_of_scope`` at the top fails at any confidence;
- a turn the failure rules cannot judge (the NLU is down; the person button pressed with
  no message) leaves the count as it was.

:func:`decide` is pure: the same turn, configuration and detector always give the same
decision, and nothing is read or written. The engine stores ``Decision.failed_turns`` and,
after an ANSWER, the answered intent, and passes them back with the next turn.
"""

from __future__ import annotations

from handoff.policy.config import PolicyConfig
from handoff.policy.frustration import Frustration, FrustrationDetector
from handoff.policy.model import (
    HANDOFF_PRIORITY,
    Action,
    Decision,
    IntentGuess,
    Reason,
    ReasonCode,
    Turn,
)
from handoff.policy.understanding import (
    far_from_examples,
    gibberish,
    said_not_helpful,
    spread_out,
    strong_human_only,
    weak_human_only,
)

# Confidences are floats (0.6 - 0.5 == 0.09999999999999998): compare with a tolerance, so a
# value exactly at a configured boundary lands on the documented side of it.
_EPSILON = 1e-9


def decide(turn: Turn, *, config: PolicyConfig, detector: FrustrationDetector) -> Decision:
    """What to do with ``turn``; every rule that fired is listed in ``Decision.reasons``."""
    top = turn.top
    confident = top if top is not None and _confident(top, config) else None
    frustration = detector.assess(
        turn.text,
        intent=confident.name if confident else None,
        previous_texts=turn.previous_texts,
        failed_turns=turn.failed_turns,
        meaning=turn.meaning,
    )
    reasons = _immediate_reasons(turn, config, frustration, detector.config.threshold)
    # A press of the person button carries no message: the failure rules judge messages.
    judged = turn.ranking is not None and not (turn.person_requested and not turn.text.strip())
    failures = _failures(turn, config, detector) if judged else []
    reasons += failures
    if failures:
        failed_turns = turn.failed_turns + 1
        if failed_turns >= config.max_failed_turns:
            reasons.append(
                Reason(
                    ReasonCode.FAILED_TURNS,
                    f"{failed_turns} failed turn(s) in a row reach the limit of "
                    f"{config.max_failed_turns}",
                    {"failed_turns": failed_turns, "max_failed_turns": config.max_failed_turns},
                )
            )
    elif not judged:
        # Without the NLU, or without a message, nothing is known about how well the bot
        # understands the customer: the count stays as it was.
        failed_turns = turn.failed_turns
    else:
        failed_turns = 0  # understood: the count starts again
    codes = {reason.code for reason in reasons}
    primary = next((code for code in HANDOFF_PRIORITY if code in codes), None)
    if primary is not None:
        action, intent = Action.HANDOFF, None
    elif failures:
        action, intent = Action.CLARIFY, None
    else:
        assert top is not None  # an empty ranking is a failure (low confidence)
        action, intent = Action.ANSWER, top.name
    return Decision(
        action=action,
        intent=intent,
        failed_turns=failed_turns,
        reasons=tuple(reasons),
        frustration=frustration,
        handoff_reason=primary,
    )


def _immediate_reasons(
    turn: Turn, config: PolicyConfig, frustration: Frustration, frustration_threshold: float
) -> list[Reason]:
    """The reasons to hand off at once, in priority order."""
    reasons: list[Reason] = []
    top = turn.top
    confident = top is not None and _confident(top, config)
    if turn.person_requested:
        reasons.append(
            Reason(
                ReasonCode.PERSON_REQUESTED,
                "the customer asked for a person (the button or /human)",
            )
        )
    elif top is not None and confident and top.name in config.person_request_intents:
        reasons.append(
            Reason(
                ReasonCode.PERSON_REQUESTED,
                f"the customer asked for a person in words ({_said(top)})",
                _confidence(top, config),
            )
        )
    if strong_human_only(turn, config):
        assert top is not None  # a strong topic has a top intent
        reasons.append(
            Reason(
                ReasonCode.HUMAN_ONLY_TOPIC,
                f"{_said(top)} is a topic only a person handles",
                _confidence(top, config),
            )
        )
    if frustration.frustrated:
        cues = ", ".join(frustration.cues)
        reasons.append(
            Reason(
                ReasonCode.FRUSTRATED,
                f"frustration {frustration.score:.2f} reaches the threshold "
                f"{frustration_threshold:.2f} ({cues})",
                {
                    "score": frustration.score,
                    "threshold": frustration_threshold,
                    "sentiment": frustration.sentiment,
                    "model_probability": frustration.model_probability,
                },
            )
        )
    if turn.ranking is None:
        reasons.append(
            Reason(
                ReasonCode.NLU_UNAVAILABLE,
                "the NLU was unavailable, so the bot could not read the message",
            )
        )
    return reasons


def _failures(turn: Turn, config: PolicyConfig, detector: FrustrationDetector) -> list[Reason]:
    """Why this turn failed (nothing if the bot understood it and had been helpful)."""
    checks = (
        gibberish(turn.text, detector.model, config),
        weak_human_only(turn, config),
        said_not_helpful(turn),
        spread_out(turn, config),
        far_from_examples(turn, config),
    )
    found = [reason for reason in checks if reason is not None]
    return found + [
        reason for reason in _nlu_failures(turn, config) if reason.code not in _codes(found)
    ]


def _codes(reasons: list[Reason]) -> set[ReasonCode]:
    return {reason.code for reason in reasons}


def _nlu_failures(turn: Turn, config: PolicyConfig) -> list[Reason]:
    """Failures read from the NLU's ranking and the previous answer."""
    top, runner_up = turn.top, turn.runner_up
    if top is None:
        return [
            Reason(
                ReasonCode.LOW_CONFIDENCE,
                "the NLU recognised no intent at all",
                {"confidence": 0.0, "threshold": config.confidence_threshold},
            )
        ]
    reasons: list[Reason] = []
    confident = _confident(top, config)
    # With the message's similarity to the examples measured, the scope score (which holds
    # the confidence) judges understanding instead of the threshold and the margin: on
    # CLINC150 val it fails fewer understood turns and more out-of-scope ones.
    scored = turn.example_similarity is not None and config.min_scope_score is not None
    if not confident and not scored:
        reasons.append(
            Reason(
                ReasonCode.LOW_CONFIDENCE,
                f"top intent confidence {top.confidence:.2f} ({top.name}) is below the "
                f"threshold {config.confidence_threshold:.2f}",
                _confidence(top, config),
            )
        )
    if runner_up is not None and not scored:
        gap = top.confidence - runner_up.confidence
        if gap < config.ambiguity_margin - _EPSILON:
            reasons.append(
                Reason(
                    ReasonCode.AMBIGUOUS,
                    f"{_said(top)} and {_said(runner_up)} are {gap:.2f} apart, less than the "
                    f"ambiguity margin {config.ambiguity_margin:.2f}",
                    {
                        "confidence": top.confidence,
                        "runner_up_confidence": runner_up.confidence,
                        "gap": gap,
                        "margin": config.ambiguity_margin,
                    },
                )
            )
    if top.name in config.fallback_intents:
        reasons.append(
            Reason(
                ReasonCode.OUT_OF_SCOPE,
                f"the message is out of scope ({_said(top)})",
                {"confidence": top.confidence},
            )
        )
    last = turn.last_answered_intent
    # "No" or the same question again judge the previous answer only when the NLU is sure;
    # otherwise the turn already failed for low confidence.
    if confident and last is not None:
        if top.name in config.not_helpful_intents and last not in config.yes_no_intents:
            reasons.append(
                Reason(
                    ReasonCode.NOT_HELPFUL,
                    f"the customer said {_said(top)} right after the bot answered {last}",
                    {"confidence": top.confidence},
                )
            )
        # A second "no" is judged by the rule above, not as a repetition: "no" to "Shall I
        # cancel it?" and then "no" to "Anything else?" is a conversation going well.
        if (
            top.name == last
            and top.name not in config.repeatable_intents
            and top.name not in config.not_helpful_intents
        ):
            reasons.append(
                Reason(
                    ReasonCode.REPEATED_INTENT,
                    f"the customer asked {_said(top)} again right after the bot answered it",
                    {"confidence": top.confidence},
                )
            )
    return reasons


def _confident(guess: IntentGuess, config: PolicyConfig) -> bool:
    """At the threshold counts as confident."""
    return guess.confidence >= config.confidence_threshold - _EPSILON


def _confidence(guess: IntentGuess, config: PolicyConfig) -> dict[str, float]:
    return {"confidence": guess.confidence, "threshold": config.confidence_threshold}


def _said(guess: IntentGuess) -> str:
    return f"{guess.name} {guess.confidence:.2f}"


def service_error_decision(error: str) -> Decision:
    """Hand off because Tandem itself failed on the customer's message (not a policy call)."""
    return Decision(
        action=Action.HANDOFF,
        intent=None,
        failed_turns=0,
        reasons=(
            Reason(ReasonCode.SERVICE_ERROR, f"Tandem failed handling the message ({error})"),
        ),
        frustration=Frustration.calm(),
        handoff_reason=ReasonCode.SERVICE_ERROR,
    )
