"""The two-turn rule (:func:`handoff.policy.decide`): every rule, option, boundary and priority.

Pure and fast: no I/O, one real frustration detector shared by every test.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from handoff.policy import (
    HANDOFF_PRIORITY,
    RECENT_TEXTS,
    Action,
    Decision,
    FrustrationConfig,
    FrustrationDetector,
    IntentGuess,
    PolicyConfig,
    PolicyMemory,
    Reason,
    ReasonCode,
    Turn,
    decide,
    service_error_decision,
)

DETECTOR = FrustrationDetector()
DEFAULT = PolicyConfig()
CALM = "could you help me with this"  # no frustration cue at all


def ranking(*pairs: tuple[str, float]) -> tuple[IntentGuess, ...]:
    return tuple(IntentGuess(name, confidence) for name, confidence in pairs)


def turn(
    *pairs: tuple[str, float],
    text: str = CALM,
    nlu_down: bool = False,
    person: bool = False,
    failed: int = 0,
    last: str | None = None,
    previous: tuple[str, ...] = (),
) -> Turn:
    return Turn(
        text=text,
        ranking=None if nlu_down else ranking(*pairs),
        person_requested=person,
        failed_turns=failed,
        last_answered_intent=last,
        previous_texts=previous,
    )


def run(
    t: Turn, config: PolicyConfig = DEFAULT, detector: FrustrationDetector = DETECTOR
) -> Decision:
    return decide(t, config=config, detector=detector)


def codes(decision: Decision) -> list[ReasonCode]:
    return [reason.code for reason in decision.reasons]


def reason(decision: Decision, code: ReasonCode) -> Reason:
    found = [r for r in decision.reasons if r.code is code]
    assert len(found) == 1, decision.reasons
    return found[0]


# --- answering ---------------------------------------------------------------------------


def test_a_clear_confident_intent_is_answered() -> None:
    decision = run(turn(("reset_password", 0.91), ("login_problem", 0.05)))

    assert decision.action is Action.ANSWER
    assert decision.intent == "reset_password"
    assert decision.failed_turns == 0
    assert decision.reasons == ()
    assert decision.handoff_reason is None
    assert not decision.frustration.frustrated


def test_an_answered_turn_resets_the_failure_count() -> None:
    decision = run(turn(("order_status", 0.9), failed=1))

    assert decision.action is Action.ANSWER
    assert decision.failed_turns == 0


def test_decide_is_pure() -> None:
    t = turn(("billing_question", 0.41), ("refund_request", 0.38), failed=1, last=None)

    assert run(t) == run(t)


# --- the failure rules -------------------------------------------------------------------


def test_low_confidence_asks_to_rephrase() -> None:
    decision = run(turn(("billing_question", 0.41), ("order_status", 0.1)))

    assert decision.action is Action.CLARIFY
    assert decision.intent is None
    assert decision.failed_turns == 1
    assert decision.handoff_reason is None
    low = reason(decision, ReasonCode.LOW_CONFIDENCE)
    assert low.explanation == (
        "top intent confidence 0.41 (billing_question) is below the threshold 0.50"
    )
    assert dict(low.numbers) == {"confidence": 0.41, "threshold": 0.5}


@pytest.mark.parametrize(
    ("confidence", "threshold", "action"),
    [
        (0.5, 0.5, Action.ANSWER),  # exactly at the threshold: confident (>=)
        (0.4999, 0.5, Action.CLARIFY),
        (0.55, 0.55, Action.ANSWER),
        (0.7 - 0.15, 0.55, Action.ANSWER),  # 0.5499999999999999: float noise is tolerated
        (0.549, 0.55, Action.CLARIFY),
    ],
)
def test_the_confidence_threshold_is_inclusive(
    confidence: float, threshold: float, action: Action
) -> None:
    config = PolicyConfig(confidence_threshold=threshold)

    assert run(turn(("billing_question", confidence)), config).action is action


def test_an_empty_ranking_is_low_confidence() -> None:
    decision = run(turn())

    assert decision.action is Action.CLARIFY
    low = reason(decision, ReasonCode.LOW_CONFIDENCE)
    assert low.explanation == "the NLU recognised no intent at all"
    assert dict(low.numbers) == {"confidence": 0.0, "threshold": 0.5}


def test_two_intents_too_close_to_call_are_ambiguous() -> None:
    decision = run(turn(("billing_question", 0.52), ("login_problem", 0.46)))

    assert decision.action is Action.CLARIFY
    assert codes(decision) == [ReasonCode.AMBIGUOUS]
    ambiguous = reason(decision, ReasonCode.AMBIGUOUS)
    assert ambiguous.numbers["gap"] == pytest.approx(0.06)
    assert ambiguous.numbers["margin"] == 0.1
    assert "billing_question 0.52 and login_problem 0.46 are 0.06 apart" in ambiguous.explanation


@pytest.mark.parametrize(
    ("top", "second", "action"),
    [
        (0.6, 0.5, Action.ANSWER),  # 0.6 - 0.5 == 0.0999...: equal to the margin, not ambiguous
        (0.55, 0.45, Action.ANSWER),  # 0.1000...03
        (0.7, 0.6, Action.ANSWER),
        (0.52, 0.43, Action.CLARIFY),  # 0.09 < 0.1
        (0.5, 0.5, Action.CLARIFY),  # a tie
    ],
)
def test_a_gap_equal_to_the_margin_is_not_ambiguous(
    top: float, second: float, action: Action
) -> None:
    decision = run(turn(("cancel_subscription", top), ("billing_question", second)))

    assert decision.action is action


def test_a_single_intent_ranking_is_never_ambiguous() -> None:
    config = PolicyConfig(ambiguity_margin=1.0)  # every runner-up would be too close

    decision = run(turn(("order_status", 0.55)), config)

    assert decision.action is Action.ANSWER
    assert decision.reasons == ()


def test_out_of_scope_fails_at_any_confidence() -> None:
    confident = run(turn(("out_of_scope", 0.93)))
    unsure = run(turn(("out_of_scope", 0.3), ("greet", 0.1)))

    assert confident.action is Action.CLARIFY
    assert codes(confident) == [ReasonCode.OUT_OF_SCOPE]
    assert codes(unsure) == [ReasonCode.LOW_CONFIDENCE, ReasonCode.OUT_OF_SCOPE]


def test_out_of_scope_as_the_runner_up_is_not_a_failure() -> None:
    decision = run(turn(("billing_question", 0.7), ("out_of_scope", 0.2)))

    assert decision.action is Action.ANSWER


def test_no_right_after_an_answer_is_not_helpful() -> None:
    decision = run(turn(("deny", 0.9), text="no", last="reset_password"))

    assert decision.action is Action.CLARIFY
    assert codes(decision) == [ReasonCode.NOT_HELPFUL]
    assert reason(decision, ReasonCode.NOT_HELPFUL).explanation == (
        "the customer said deny 0.90 right after the bot answered reset_password"
    )


@pytest.mark.parametrize(
    ("last", "why"),
    [
        (None, "a first message, or right after a clarifying question"),
        ("cancel_subscription", "the answer asked a yes/no question (Shall I cancel it?)"),
        ("thanks", "the answer was 'Anything else?'"),
        ("deny", "a second no: repetition of deny is judged by this rule only"),
    ],
)
def test_no_that_answers_a_question_is_not_a_failure(last: str | None, why: str) -> None:
    decision = run(turn(("deny", 0.9), text="no", last=last))

    assert decision.action is Action.ANSWER, why
    assert decision.intent == "deny"


def test_an_unsure_no_after_an_answer_is_only_low_confidence() -> None:
    decision = run(turn(("deny", 0.4), ("affirm", 0.2), text="nah", last="reset_password"))

    assert codes(decision) == [ReasonCode.LOW_CONFIDENCE]


def test_the_same_intent_right_after_its_answer_is_repeated() -> None:
    decision = run(turn(("reset_password", 0.85), last="reset_password"))

    assert decision.action is Action.CLARIFY
    assert codes(decision) == [ReasonCode.REPEATED_INTENT]


@pytest.mark.parametrize("intent", ["greet", "thanks", "affirm", "goodbye"])
def test_repeatable_intents_may_come_twice(intent: str) -> None:
    decision = run(turn((intent, 0.9), last=intent))

    assert decision.action is Action.ANSWER


def test_the_same_intent_after_a_different_answer_is_fine() -> None:
    decision = run(turn(("reset_password", 0.85), last="login_problem"))

    assert decision.action is Action.ANSWER


def test_an_unsure_repeat_is_only_low_confidence() -> None:
    decision = run(turn(("reset_password", 0.45), last="reset_password"))

    assert codes(decision) == [ReasonCode.LOW_CONFIDENCE]


def test_every_failure_that_applies_is_listed() -> None:
    decision = run(turn(("out_of_scope", 0.4), ("greet", 0.35)))

    assert codes(decision) == [
        ReasonCode.LOW_CONFIDENCE,
        ReasonCode.AMBIGUOUS,
        ReasonCode.OUT_OF_SCOPE,
    ]
    assert decision.failed_turns == 1


# --- the count of failed turns ---------------------------------------------------------


def test_a_second_failed_turn_in_a_row_hands_off() -> None:
    decision = run(turn(("bug_report", 0.3), failed=1))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.FAILED_TURNS
    assert decision.failed_turns == 2
    assert codes(decision) == [ReasonCode.LOW_CONFIDENCE, ReasonCode.FAILED_TURNS]
    failed = reason(decision, ReasonCode.FAILED_TURNS)
    assert failed.explanation == "2 failed turn(s) in a row reach the limit of 2"
    assert dict(failed.numbers) == {"failed_turns": 2, "max_failed_turns": 2}


def walk(
    steps: list[tuple[str, tuple[IntentGuess, ...] | None]], config: PolicyConfig = DEFAULT
) -> list[Decision]:
    """Decide a conversation as the engine does, turn after turn."""
    memory = PolicyMemory()
    decisions = []
    for text, guesses in steps:
        decision = run(memory.turn(text, ranking=guesses, person_requested=False), config)
        memory = memory.after(text, decision)
        decisions.append(decision)
    return decisions


def test_one_failed_turn_then_a_resolved_one_never_hands_off() -> None:
    decisions = walk(
        [
            ("the blue thing", ranking(("bug_report", 0.3))),
            ("my order hasn't arrived", ranking(("order_status", 0.88))),
            ("the other thing", ranking(("bug_report", 0.3))),
            ("how do I reset my password", ranking(("reset_password", 0.9))),
        ]
    )

    assert [d.action for d in decisions] == [
        Action.CLARIFY,
        Action.ANSWER,
        Action.CLARIFY,
        Action.ANSWER,
    ]
    assert [d.failed_turns for d in decisions] == [1, 0, 1, 0]


def test_different_failures_in_a_row_add_up() -> None:
    decisions = walk(
        [
            ("how do I reset my password", ranking(("reset_password", 0.9))),
            ("no", ranking(("deny", 0.9))),  # not helpful
            ("what's the weather", ranking(("out_of_scope", 0.8))),  # out of scope
        ]
    )

    assert [d.action for d in decisions] == [Action.ANSWER, Action.CLARIFY, Action.HANDOFF]
    assert decisions[-1].handoff_reason is ReasonCode.FAILED_TURNS


# --- immediate handoffs --------------------------------------------------------------------


def test_the_person_button_hands_off_without_judging_the_empty_message() -> None:
    decision = run(turn(text="", person=True, failed=1))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.PERSON_REQUESTED
    assert codes(decision) == [ReasonCode.PERSON_REQUESTED]
    assert decision.failed_turns == 1  # a button press says nothing about understanding
    assert decision.intent is None


def test_human_command_with_a_message_still_judges_the_message() -> None:
    decision = run(turn(("bug_report", 0.3), text="/human the export", person=True))

    assert decision.handoff_reason is ReasonCode.PERSON_REQUESTED
    assert codes(decision) == [ReasonCode.PERSON_REQUESTED, ReasonCode.LOW_CONFIDENCE]


def test_asking_for_a_person_in_words_hands_off() -> None:
    decision = run(turn(("human_request", 0.93), text="I want to talk to a human"))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.PERSON_REQUESTED
    assert dict(reason(decision, ReasonCode.PERSON_REQUESTED).numbers) == {
        "confidence": 0.93,
        "threshold": 0.5,
    }


def test_an_unsure_request_for_a_person_asks_to_rephrase() -> None:
    decision = run(turn(("human_request", 0.42), ("greet", 0.3), text="someone?"))

    assert decision.action is Action.CLARIFY
    assert codes(decision) == [ReasonCode.LOW_CONFIDENCE]


def test_a_human_only_topic_hands_off() -> None:
    decision = run(turn(("refund_request", 0.88), text="I want a refund"))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.HUMAN_ONLY_TOPIC
    assert reason(decision, ReasonCode.HUMAN_ONLY_TOPIC).explanation == (
        "refund_request 0.88 is a topic only a person handles"
    )


@pytest.mark.parametrize(
    "guesses",
    [
        (("refund_request", 0.44), ("billing_question", 0.3)),  # unsure
        (("billing_question", 0.7), ("refund_request", 0.2)),  # only the runner-up
    ],
)
def test_an_unsure_or_runner_up_human_only_topic_does_not_hand_off(
    guesses: tuple[tuple[str, float], ...],
) -> None:
    decision = run(turn(*guesses))

    assert decision.action is not Action.HANDOFF


def test_frustration_hands_off_at_once() -> None:
    decision = run(turn(("order_status", 0.9), text="this is ridiculous, waiting for 3 weeks"))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.FRUSTRATED
    assert decision.failed_turns == 0  # understood, even if upset
    frustrated = reason(decision, ReasonCode.FRUSTRATED)
    assert frustrated.numbers["threshold"] == 0.5
    assert frustrated.numbers["score"] == decision.frustration.score
    assert "harsh_words:ridiculous" in frustrated.explanation


def test_the_detector_sees_the_complaint_intent_only_when_confident() -> None:
    text = "terrible experience"
    cues_only = FrustrationDetector(FrustrationConfig(model_weight=0.0, sentiment_weight=0.45))
    confident = run(turn(("complaint", 0.78), text=text), detector=cues_only)
    unsure = run(turn(("complaint", 0.45), ("bug_report", 0.1), text=text), detector=cues_only)

    assert "complaint_intent" in confident.frustration.cues
    assert confident.handoff_reason is ReasonCode.FRUSTRATED
    assert "complaint_intent" not in unsure.frustration.cues
    assert unsure.action is Action.CLARIFY


def test_the_nlu_being_down_hands_off_and_keeps_the_count() -> None:
    decision = run(turn(text="hello?", nlu_down=True, failed=1))

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.NLU_UNAVAILABLE
    assert codes(decision) == [ReasonCode.NLU_UNAVAILABLE]
    assert decision.failed_turns == 1


def test_frustration_is_assessed_when_the_nlu_is_down() -> None:
    decision = run(turn(text="this is ridiculous", nlu_down=True))

    assert codes(decision) == [ReasonCode.FRUSTRATED, ReasonCode.NLU_UNAVAILABLE]
    assert decision.handoff_reason is ReasonCode.FRUSTRATED


# --- priority ---------------------------------------------------------------------------


def test_the_documented_priority() -> None:
    assert HANDOFF_PRIORITY == (
        ReasonCode.PERSON_REQUESTED,
        ReasonCode.HUMAN_ONLY_TOPIC,
        ReasonCode.FRUSTRATED,
        ReasonCode.NLU_UNAVAILABLE,
        ReasonCode.FAILED_TURNS,
    )


def test_a_service_error_hands_off_and_says_why() -> None:
    decision = service_error_decision("RuntimeError: a bug")
    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.SERVICE_ERROR
    assert "RuntimeError: a bug" in decision.reasons[0].explanation
    assert decision.to_record()["handoff_reason"] == "service_error"


ANGRY = "this is ridiculous!!!"


@pytest.mark.parametrize(
    ("t", "primary", "also"),
    [
        (
            turn(("refund_request", 0.9), text=ANGRY, person=True),
            ReasonCode.PERSON_REQUESTED,
            {ReasonCode.HUMAN_ONLY_TOPIC, ReasonCode.FRUSTRATED},
        ),
        (
            turn(text="", person=True, nlu_down=True),
            ReasonCode.PERSON_REQUESTED,
            {ReasonCode.NLU_UNAVAILABLE},
        ),
        (
            turn(("refund_request", 0.9), text=ANGRY),
            ReasonCode.HUMAN_ONLY_TOPIC,
            {ReasonCode.FRUSTRATED},
        ),
        (
            turn(("refund_request", 0.9), ("billing_question", 0.05), failed=1, text=ANGRY),
            ReasonCode.HUMAN_ONLY_TOPIC,
            {ReasonCode.FRUSTRATED},
        ),
        (turn(text=ANGRY, nlu_down=True), ReasonCode.FRUSTRATED, {ReasonCode.NLU_UNAVAILABLE}),
        (
            turn(("bug_report", 0.3), text=ANGRY, failed=1),
            ReasonCode.FRUSTRATED,
            {ReasonCode.LOW_CONFIDENCE, ReasonCode.FAILED_TURNS},
        ),
    ],
)
def test_the_primary_reason_follows_the_priority(
    t: Turn, primary: ReasonCode, also: set[ReasonCode]
) -> None:
    decision = run(t)

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is primary
    assert {primary, *also} <= set(codes(decision))


def test_reasons_are_listed_immediate_first_then_failures() -> None:
    decision = run(turn(("refund_request", 0.9), ("billing_question", 0.05), text=ANGRY, failed=1))
    weak = run(turn(("refund_request", 0.55), ("billing_question", 0.5), failed=1))

    assert codes(decision) == [ReasonCode.HUMAN_ONLY_TOPIC, ReasonCode.FRUSTRATED]
    assert codes(weak) == [
        ReasonCode.LOW_CONFIDENCE,
        ReasonCode.AMBIGUOUS,
        ReasonCode.FAILED_TURNS,
    ]


# --- every option changes the outcome ------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "t", "default_action", "changed_action"),
    [
        ("confidence_threshold", 0.6, turn(("order_status", 0.55)), "answer", "clarify"),
        (
            "ambiguity_margin",
            0.2,
            turn(("order_status", 0.6), ("billing_question", 0.45)),
            "answer",
            "clarify",
        ),
        ("max_failed_turns", 1, turn(("bug_report", 0.3)), "clarify", "handoff"),
        ("max_failed_turns", 3, turn(("bug_report", 0.3), failed=1), "handoff", "clarify"),
        ("person_request_intents", (), turn(("human_request", 0.9)), "handoff", "answer"),
        (
            "person_request_intents",
            ("human_request", "manager_request"),
            turn(("manager_request", 0.9)),
            "answer",
            "handoff",
        ),
        ("human_only_intents", (), turn(("refund_request", 0.9)), "handoff", "answer"),
        (
            "human_only_intents",
            ("cancel_subscription",),
            turn(("cancel_subscription", 0.9)),
            "answer",
            "handoff",
        ),
        ("not_helpful_intents", (), turn(("deny", 0.9), last="order_status"), "clarify", "answer"),
        (
            "yes_no_intents",
            ("order_status",),
            turn(("deny", 0.9), last="order_status"),
            "clarify",
            "answer",
        ),
        (
            "repeatable_intents",
            ("order_status",),
            turn(("order_status", 0.9), last="order_status"),
            "clarify",
            "answer",
        ),
        ("fallback_intents", ("bot_challenge",), turn(("bot_challenge", 0.9)), "answer", "clarify"),
        ("fallback_intents", (), turn(("out_of_scope", 0.9)), "clarify", "answer"),
        (
            "frustration",
            FrustrationConfig(model_weight=0.0),
            turn(("bug_report", 0.78), text="terrible experience"),
            "handoff",
            "answer",
        ),
        (
            "frustration",
            FrustrationConfig(threshold=0.3),
            turn(("billing_question", 0.8), text="I still haven't received my invoice"),
            "answer",
            "handoff",
        ),
    ],
)
def test_each_option_changes_the_outcome(
    option: str, value: Any, t: Turn, default_action: str, changed_action: str
) -> None:
    config = PolicyConfig(**{option: value})
    detector = FrustrationDetector(config.frustration)

    assert run(t).action == default_action
    assert run(t, config, detector).action == changed_action


def test_complaint_intents_come_from_the_frustration_settings() -> None:
    config = PolicyConfig(frustration=FrustrationConfig(complaint_intents=("rant",)))

    assert config.complaint_intents == ("rant",)
    assert DEFAULT.complaint_intents == ("complaint",)


def test_the_defaults() -> None:
    assert DEFAULT.confidence_threshold == 0.5
    assert DEFAULT.ambiguity_margin == 0.1
    assert DEFAULT.max_failed_turns == 2
    assert DEFAULT.person_request_intents == ("human_request",)
    assert DEFAULT.human_only_intents == ("refund_request", "legal_request")
    assert DEFAULT.not_helpful_intents == ("deny",)
    assert DEFAULT.repeatable_intents == ("greet", "thanks", "affirm", "goodbye")
    assert DEFAULT.fallback_intents == ("out_of_scope",)


# --- configuration errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"confidence_threshold": 1.5},
            "confidence_threshold: expected a number from 0 to 1, got 1.5",
        ),
        ({"confidence_threshold": -0.1}, "confidence_threshold: expected a number from 0 to 1"),
        ({"confidence_threshold": math.nan}, "confidence_threshold: expected a number"),
        ({"confidence_threshold": True}, "confidence_threshold: expected a number"),
        ({"confidence_threshold": "0.5"}, "confidence_threshold: expected a number"),
        ({"ambiguity_margin": 2}, "ambiguity_margin: expected a number from 0 to 1, got 2"),
        ({"max_failed_turns": 0}, "max_failed_turns: expected a whole number of at least 1, got 0"),
        ({"max_failed_turns": 1.5}, "max_failed_turns: expected a whole number"),
        ({"max_failed_turns": True}, "max_failed_turns: expected a whole number"),
        ({"human_only_intents": "refund_request"}, "human_only_intents: expected a list of intent"),
        (
            {"repeatable_intents": ("greet", "")},
            "repeatable_intents: expected intent names, got ''",
        ),
        ({"fallback_intents": 3}, "fallback_intents: expected a list of intent names"),
        (
            {"fallback_intents": ("out_of_scope", "human_request")},
            "fallback_intents: human_request also listed in person_request_intents or "
            "human_only_intents",
        ),
        (
            {"not_helpful_intents": ("refund_request",)},
            "not_helpful_intents: refund_request also listed",
        ),
        ({"frustration": {"threshold": 0.5}}, "frustration: expected a FrustrationConfig"),
    ],
)
def test_policy_config_rejects_bad_values(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        PolicyConfig(**options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 0}, "threshold: expected a number from 0 (excluded) to 1, got 0"),
        ({"threshold": 1.2}, "threshold: expected a number"),
        ({"sentiment_floor": 1}, "sentiment_floor: expected a number from 0 to 1 (excluded)"),
        ({"insult_weight": 1.5}, "insult_weight: expected a number from 0 to 1, got 1.5"),
        ({"long_wait_weight": -0.1}, "long_wait_weight: expected a number"),
        ({"shouting_ratio": 0}, "shouting_ratio: expected a number from 0 (excluded)"),
        ({"repeat_similarity": 0}, "repeat_similarity: expected a number from 0 (excluded)"),
        (
            {"shouting_min_letters": 0},
            "shouting_min_letters: expected a whole number of at least 1",
        ),
        ({"repeat_min_chars": -1}, "repeat_min_chars: expected a whole number of at least 0"),
        ({"complaint_intents": (1,)}, "complaint_intents: expected intent names, got 1"),
    ],
)
def test_frustration_config_rejects_bad_values(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        FrustrationConfig(**options)


def test_lists_from_yaml_become_tuples() -> None:
    # The settings file gives lists; the frozen config stores tuples.
    config = PolicyConfig(human_only_intents=["refund_request"])  # type: ignore[arg-type]

    assert config.human_only_intents == ("refund_request",)


def test_configs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.confidence_threshold = 0.9  # type: ignore[misc]


# --- the input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: IntentGuess("greet", 1.2), "confidence of 'greet': expected 0..1, got 1.2"),
        (lambda: IntentGuess("greet", math.nan), "confidence of 'greet'"),
        (lambda: turn(("greet", 0.9), failed=-1), "failed_turns: expected 0 or more, got -1"),
        (lambda: turn(("greet", 0.2), ("thanks", 0.7)), "ranking: expected intents best first"),
    ],
)
def test_bad_input_is_rejected(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        build()


# --- the record ----------------------------------------------------------------------------


def test_to_record_is_json_for_the_database() -> None:
    decision = run(
        turn(("refund_request", 0.9), text="this is ridiculous!!!", person=True, failed=1)
    )

    record = decision.to_record()

    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["action"] == "handoff"
    assert record["intent"] is None
    assert record["handoff_reason"] == "person_requested"
    assert record["failed_turns"] == 0
    assert [r["code"] for r in record["reasons"]] == [
        "person_requested",
        "human_only_topic",
        "frustrated",
    ]
    assert record["reasons"][1] == {
        "code": "human_only_topic",
        "explanation": "refund_request 0.90 is a topic only a person handles",
        "numbers": {"confidence": 0.9, "threshold": 0.5},
    }
    assert record["frustration"]["frustrated"] is True
    assert record["frustration"]["cues"] == list(decision.frustration.cues)
    assert isinstance(record["frustration"]["score"], float)


def test_to_record_of_an_answer() -> None:
    record = run(turn(("order_status", 0.9))).to_record()

    assert record == {
        "action": "answer",
        "intent": "order_status",
        "failed_turns": 0,
        "handoff_reason": None,
        "reasons": [],
        "frustration": {
            "score": 0.0,
            "frustrated": False,
            "sentiment": 0.4019,
            "model_probability": record["frustration"]["model_probability"],
            "cues": [],
        },
    }


def test_numbers_that_json_cannot_hold_become_null() -> None:
    record = Reason(ReasonCode.AMBIGUOUS, "odd", {"gap": math.inf}).to_record()

    assert record["numbers"] == {"gap": None}
    json.dumps(record, allow_nan=False)


def test_reason_numbers_are_a_read_only_copy() -> None:
    numbers = {"confidence": 0.41}
    r = Reason(ReasonCode.LOW_CONFIDENCE, "low", numbers)
    numbers["confidence"] = 0.99

    assert r.numbers["confidence"] == 0.41
    with pytest.raises(TypeError):
        r.numbers["confidence"] = 0.5  # type: ignore[index]
    assert r == Reason(ReasonCode.LOW_CONFIDENCE, "low", {"confidence": 0.41})


def test_decisions_are_frozen() -> None:
    decision = run(turn(("order_status", 0.9)))

    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.action = Action.HANDOFF  # type: ignore[misc]


# --- what the engine carries between turns --------------------------------------------------


def test_memory_remembers_an_answered_intent_only() -> None:
    memory = PolicyMemory()
    answered = run(
        memory.turn(
            "where is my order", ranking=ranking(("order_status", 0.9)), person_requested=False
        )
    )
    memory = memory.after("where is my order", answered)

    assert memory == PolicyMemory(
        failed_turns=0, last_answered_intent="order_status", previous_texts=("where is my order",)
    )
    clarified = run(
        memory.turn("hmm", ranking=ranking(("bug_report", 0.2)), person_requested=False)
    )
    memory = memory.after("hmm", clarified)

    assert memory.last_answered_intent is None
    assert memory.failed_turns == 1


def test_memory_keeps_recent_texts_and_skips_button_presses() -> None:
    decision = run(turn(("greet", 0.9)))
    memory = PolicyMemory()
    for number in range(RECENT_TEXTS + 2):
        memory = memory.after(f"message {number}", decision)
    memory = memory.after("  ", decision)

    assert memory.previous_texts == tuple(f"message {n}" for n in range(2, RECENT_TEXTS + 2))


# --- issue 9: gibberish, "that didn't help", household words, weak human-only topics --------


def test_gibberish_is_asked_to_rephrase_and_counts_as_a_failed_turn() -> None:
    first = run(turn(("greet", 0.77), text="hjkl hjkl hjkl"))
    second = run(turn(("greet", 0.8), text="asdf jkl asdf", failed=1))

    assert first.action is Action.CLARIFY
    assert codes(first) == [ReasonCode.GIBBERISH]
    assert reason(first, ReasonCode.GIBBERISH).numbers["char_log_prob"] < -3.5
    assert second.handoff_reason is ReasonCode.FAILED_TURNS


def test_words_are_not_gibberish() -> None:
    assert run(turn(("greet", 0.9), text="hello there")).action is Action.ANSWER


def test_saying_the_bot_is_not_helping_twice_hands_off() -> None:
    memory = PolicyMemory(last_answered_intent="billing_question")
    decisions = []
    for text, nlu in (
        ("this didn't answer my question", ("deny", 0.52)),
        ("that is not what I asked for", ("deny", 0.6)),
    ):
        decision = run(memory.turn(text, ranking=ranking(nlu), person_requested=False))
        decisions.append(decision)
        memory = memory.after(text, decision)

    assert [d.action for d in decisions] == [Action.CLARIFY, Action.HANDOFF]
    assert ReasonCode.NOT_HELPFUL in codes(decisions[1])
    assert decisions[1].handoff_reason is ReasonCode.FAILED_TURNS


def test_not_helping_fails_even_after_a_clarify() -> None:
    decision = run(turn(("deny", 0.9), text="that is not what I asked for", failed=1))

    assert decision.handoff_reason is ReasonCode.FAILED_TURNS


def test_household_trash_is_no_insult() -> None:
    decision = run(turn(("out_of_scope", 0.7), text="set up a reminder to put the trash out"))

    assert "insult" not in decision.frustration.cues
    assert decision.action is Action.CLARIFY


@pytest.mark.parametrize(
    ("pairs", "action"),
    [
        ((("legal_request", 0.63), ("bug_report", 0.2)), Action.CLARIFY),  # not sure enough
        ((("legal_request", 0.88), ("bug_report", 0.7)), Action.CLARIFY),  # no clear lead
        ((("legal_request", 0.9), ("bug_report", 0.05)), Action.HANDOFF),
    ],
)
def test_a_human_only_topic_needs_strong_evidence(
    pairs: tuple[tuple[str, float], ...], action: Action
) -> None:
    decision = run(turn(*pairs))

    assert decision.action is action
    assert decision.intent is None  # never answered either


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gibberish_log_prob": 0}, "gibberish_log_prob: expected a negative number"),
        ({"human_only_threshold": 2}, "human_only_threshold: expected a number from 0 to 1"),
        ({"human_only_margin": -1}, "human_only_margin: expected a number from 0 to 1"),
    ],
)
def test_bad_understanding_settings_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolicyConfig(**options)


@pytest.mark.parametrize("text", ["hiya", "ttyl", "cya", "uh huh", "thx"])
def test_the_desk_s_own_short_words_are_not_gibberish(text: str) -> None:
    assert ReasonCode.GIBBERISH not in codes(run(turn(("greet", 0.9), text=text)))


def test_a_spread_out_ranking_fails_when_the_rule_is_on() -> None:
    flat = turn(("order_status", 0.55), ("billing_question", 0.1), ("bug_report", 0.1))
    peaked = turn(("order_status", 0.95), ("billing_question", 0.02))
    config = PolicyConfig(max_ranking_entropy=1.0)

    assert run(flat).action is Action.ANSWER  # off by default
    spread = run(flat, config)
    assert spread.action is Action.CLARIFY
    assert reason(spread, ReasonCode.AMBIGUOUS).numbers["entropy"] > 1.0
    assert run(peaked, config).action is Action.ANSWER


@pytest.mark.parametrize("value", [0, -1, math.inf, True])
def test_a_bad_entropy_limit_is_named(value: object) -> None:
    with pytest.raises(ValueError, match="max_ranking_entropy: expected a positive number"):
        PolicyConfig(max_ranking_entropy=value)  # type: ignore[arg-type]


# --- the scope score: far from every training example ----------------------------------


def near(similarity: float | None, *pairs: tuple[str, float], failed: int = 0) -> Turn:
    return dataclasses.replace(turn(*pairs, failed=failed), example_similarity=similarity)


SCOPE = PolicyConfig(min_scope_score=0.9, scope_confidence_weight=0.5)


def test_a_message_unlike_the_examples_and_unsure_is_out_of_scope() -> None:
    decision = run(near(0.3, ("billing_question", 0.9)), SCOPE)

    assert decision.action is Action.CLARIFY
    found = reason(decision, ReasonCode.OUT_OF_SCOPE)
    assert found.numbers == pytest.approx(
        {"similarity": 0.3, "confidence": 0.9, "score": 0.75, "min_score": 0.9}
    )
    assert found.explanation == (
        "the message is unlike the examples of billing_question: nearest similarity 0.30 + "
        "0.50 x confidence 0.90 = 0.75, below 0.90"
    )


def test_twice_out_of_scope_by_the_score_hands_off() -> None:
    decision = run(near(0.2, ("billing_question", 0.9), failed=1), SCOPE)

    assert decision.action is Action.HANDOFF
    assert decision.handoff_reason is ReasonCode.FAILED_TURNS


@pytest.mark.parametrize(
    ("similarity", "confidence", "action"),
    [
        (0.45, 0.9, Action.ANSWER),  # 0.9 exactly: at the limit counts as in scope
        (0.8, 0.2, Action.ANSWER),  # close to an example: a low confidence is fine
        (0.3, 0.9, Action.CLARIFY),
    ],
)
def test_the_score_holds_similarity_and_confidence(
    similarity: float, confidence: float, action: Action
) -> None:
    t = near(similarity, ("billing_question", confidence), ("greet", 0.0))
    assert run(t, SCOPE).action is action


def test_with_the_score_threshold_and_margin_do_not_judge_understanding() -> None:
    t = near(0.8, ("billing_question", 0.3), ("invoice_copy", 0.28))

    assert run(t, SCOPE).action is Action.ANSWER
    unmeasured = near(None, ("billing_question", 0.3), ("invoice_copy", 0.28))
    assert codes(run(unmeasured, SCOPE)) == [ReasonCode.LOW_CONFIDENCE, ReasonCode.AMBIGUOUS]


def test_without_a_score_limit_the_rule_is_off() -> None:
    config = PolicyConfig(min_scope_score=None)

    assert run(near(0.01, ("billing_question", 0.9)), config).action is Action.ANSWER
    assert codes(run(near(0.9, ("billing_question", 0.3)), config)) == [ReasonCode.LOW_CONFIDENCE]


def test_out_of_scope_by_intent_and_by_score_is_one_reason() -> None:
    decision = run(near(0.2, ("out_of_scope", 0.9)), SCOPE)

    assert codes(decision) == [ReasonCode.OUT_OF_SCOPE]
    assert decision.reasons[0].explanation == "the message is out of scope (out_of_scope 0.90)"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_scope_score", 2.5),
        ("min_scope_score", math.nan),
        ("min_scope_score", True),
        ("scope_confidence_weight", 1.5),
        ("scope_confidence_weight", "0.5"),
    ],
)
def test_a_bad_scope_setting_is_named(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"{option}: expected a number from -1 to"):
        PolicyConfig(**{option: value})  # type: ignore[arg-type]
