"""handoff.lessons: what a lesson may say, the order agents pick intents in, the groups a
trainer reviews, what `tandem nlu learn` writes, and the effect report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handoff.lessons import (
    MISUNDERSTOOD,
    OUT_OF_SCOPE,
    Lesson,
    LessonError,
    LessonStatus,
    NameProblem,
    by_intent,
    check_intent_name,
    effect,
    example_text,
    intent_choices,
    misunderstood,
    new_intent_problem,
    plan_learning,
)
from handoff.policy.model import ReasonCode

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def lesson(number: int, text: str, intent: str, *, model: str | None = "m1") -> Lesson:
    return Lesson(
        id=number,
        message_id=number,
        handoff_id=1,
        text=text,
        intent=intent,
        taught_by_id="U1",
        taught_by_name="Alice",
        taught_at=AT,
        model=model,
        status=LessonStatus.ACCEPTED,
    )


def key(text: str) -> str:
    return " ".join(text.casefold().split())


@pytest.mark.parametrize("name", ["order_status", "  change_email ", "a2"])
def test_intent_names_that_rasa_takes(name: str) -> None:
    assert check_intent_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", "x", "Order", "order status", "2fa", "a-b", "a" * 65])
def test_intent_names_refused_with_the_rule(name: str) -> None:
    with pytest.raises(LessonError, match="lower-case letters"):
        check_intent_name(name)


def test_an_example_is_one_line_without_brackets_rasa_would_read_as_an_annotation() -> None:
    assert example_text("my card [card]\n was  charged") == "my card <card> was charged"
    assert example_text("see [this](link)") == "see <this>(link)"


def test_choices_put_the_top_guesses_first_then_the_rest_and_out_of_scope_last() -> None:
    choices = intent_choices(
        ["refund_request", "out_of_scope", "billing_question"],
        ["greet", "billing_question", "refund_request", OUT_OF_SCOPE, "affirm"],
    )
    assert choices == ["refund_request", "billing_question", "affirm", "greet", OUT_OF_SCOPE]


def test_choices_stay_within_the_limit_with_out_of_scope_kept() -> None:
    choices = intent_choices([], [f"intent_{n:03}" for n in range(150)], limit=100)
    assert len(choices) == 100
    assert choices[-1] == OUT_OF_SCOPE


def test_groups_largest_first_then_by_name() -> None:
    lessons = [lesson(1, "a", "b_intent"), lesson(2, "b", "a_intent"), lesson(3, "c", "c_intent")]
    lessons.append(lesson(4, "d", "c_intent"))
    assert [(name, [x.id for x in group]) for name, group in by_intent(lessons)] == [
        ("c_intent", [3, 4]),
        ("a_intent", [2]),
        ("b_intent", [1]),
    ]


def test_learning_never_writes_an_example_of_another_intent_nor_one_twice() -> None:
    existing = {"where is my order": "order_status", "hello": "greet"}
    plan = plan_learning(
        [
            lesson(1, "Where is  my ORDER", "billing_question"),  # another intent's example
            lesson(2, "hello", "greet"),  # already there
            lesson(3, "my invoice is wrong", "billing_question"),
            lesson(4, "My invoice is wrong", "billing_question"),  # the same, twice
            lesson(5, "my invoice is wrong", "complaint"),  # taught differently meanwhile
        ],
        existing,
        key=key,
    )
    assert [x.id for x in plan.write] == [3]
    assert [x.id for x in plan.present] == [2, 4]
    assert [(x.id, other) for x, other in plan.conflicts] == [
        (1, "order_status"),
        (5, "billing_question"),
    ]
    assert plan.waiting == ()


def test_a_new_intent_waits_for_the_trainers_minimum() -> None:
    existing = {"hello": "greet"}
    few = [lesson(n, f"change my email {n}", "change_email") for n in range(1, 3)]
    plan = plan_learning([*few, lesson(9, "hi there", "greet")], existing, key=key, min_new=3)
    assert [x.id for x in plan.write] == [9]
    assert [x.id for x in plan.waiting] == [1, 2]
    enough = [*few, lesson(3, "change my email 3", "change_email")]
    assert len(plan_learning(enough, existing, key=key, min_new=3).write) == 3


def test_effect_counts_per_failed_model_what_is_now_understood_as_taught() -> None:
    lessons = [
        lesson(1, "a", "billing_question", model="m1"),
        lesson(2, "b", "complaint", model="m1"),
        lesson(3, "c", "greet", model=None),
    ]
    rows = effect(lessons, {1: "billing_question", 2: "greet", 3: "greet"})
    assert [(r.model, r.taught, r.understood) for r in rows] == [("m1", 2, 1), ("unknown", 1, 1)]


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["low_confidence"], True),
        (["ambiguous", "failed_turns"], True),
        (["out_of_scope"], True),
        (["person_requested"], False),
        (["frustrated", "human_only_topic"], False),
        ([], False),
    ],
)
def test_the_turns_worth_teaching_are_those_the_nlu_did_not_understand(
    codes: list[str], expected: bool
) -> None:
    assert misunderstood({"reasons": [{"code": code} for code in codes]}) is expected
    assert not misunderstood(None)


def test_the_reasons_named_are_the_policys() -> None:
    assert {code.value for code in ReasonCode} >= MISUNDERSTOOD


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("payment_methods", None),
        (" payment_methods ", None),  # trimmed, as the form's field is
        ("ab", None),
        ("a", NameProblem.INVALID),  # too short
        ("a" * 65, NameProblem.INVALID),
        ("Payment", NameProblem.INVALID),  # upper case
        ("pay methods", NameProblem.INVALID),
        ("2fa_help", NameProblem.INVALID),  # not starting with a letter
        ("pay-methods", NameProblem.INVALID),
        ("", NameProblem.INVALID),
        ("billing_question", NameProblem.TAKEN),
        ("out_of_scope", NameProblem.TAKEN),
        ("nlu_fallback", NameProblem.RESERVED),
        ("session_start", NameProblem.RESERVED),
        ("restart", NameProblem.RESERVED),
        ("back", NameProblem.RESERVED),
    ],
)
def test_a_new_intents_name_is_rasa_safe_and_clashes_with_nothing(
    name: str, problem: NameProblem | None
) -> None:
    assert new_intent_problem(name, ["billing_question", OUT_OF_SCOPE]) is problem
