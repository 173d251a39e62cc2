"""The replies file: the shipped one covers every intent, and mistakes are reported."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from handoff.policy import PolicyConfig
from handoff.responses import (
    PERSON_BUTTON,
    SYSTEM_KEYS,
    ResponsesError,
    load_responses,
    menu_commands,
)
from nlu.validation import validate_nlu_data

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "responses.yml"


def test_every_intent_the_nlu_knows_is_answered_or_routed_by_the_policy() -> None:
    responses = load_responses(SHIPPED)
    policy = PolicyConfig()
    routed = {
        *policy.person_request_intents,
        *policy.human_only_intents,
        *policy.fallback_intents,
    }
    intents = set(validate_nlu_data([REPO / "nlu" / "data"]).intents)
    assert intents - routed <= responses.intents, intents - routed - responses.intents
    assert not (responses.intents - intents), "answers for intents the NLU does not know"


def test_the_shipped_file_has_every_system_message() -> None:
    responses = load_responses(SHIPPED)
    for key in SYSTEM_KEYS:
        assert responses.system(key, {"name": "Ada", "agent": "Alice", "command": "x"}).text


def test_placeholders_are_filled_and_missing_ones_fall_back() -> None:
    responses = load_responses(SHIPPED, rng=random.Random(1))
    assert responses.system("start", {"name": "Ada"}).text.startswith("Hi Ada!")
    assert responses.system("start", {}).text.startswith("Hi there!")
    assert PERSON_BUTTON in responses.system("start").buttons[0]


def test_the_most_specific_variant_wins() -> None:
    responses = load_responses(SHIPPED)
    for _ in range(5):
        reply = responses.for_intent("order_status", {"order_id": "ORD-1"})
        assert reply is not None
        assert "ORD-1" in reply.text
    generic = responses.for_intent("order_status", {})
    assert generic is not None
    assert "{order_id}" not in generic.text


def test_handoff_messages_fall_back_to_the_general_one() -> None:
    responses = load_responses(SHIPPED)
    assert responses.system("handoff_something_new").text == responses.system("handoff").text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "responses.yml"
    path.write_text(text, encoding="utf-8")
    return path


def minimal_system() -> str:
    return "system:\n" + "".join(f"  {key}:\n    - text: ok\n" for key in sorted(SYSTEM_KEYS))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intents: [\n", ":2: not valid YAML"),
        ("- a\n", "expected the two sections 'intents' and 'system'"),
        ("intents: {}\nsystem: {}\n", "system.start: missing"),
        ("intents:\n  greet: hello\n", "intents.greet: expected a list of one or more variants"),
        (
            "intents:\n  greet:\n    - txt: hi\n",
            "intents.greet[0]: expected a mapping with a 'text'",
        ),
        ("intents:\n  greet:\n    - text: hi {name\n", "bad placeholder"),
        ("intents:\n  greet:\n    - text: hi\n      colour: red\n", "unknown key(s) colour"),
        (f"intents:\n  greet:\n    - text: {'x' * 5000}\n", "text must have 1 to 4096"),
        (
            "intents:\n  greet:\n    - text: hi\n      buttons:\n"
            "        - [{label: Go, data: go}]\n",
            "must be 'human', 'intent:NAME'",
        ),
    ],
)
def test_mistakes_are_reported_with_where(tmp_path: Path, text: str, expected: str) -> None:
    if "system:" not in text and "- a" not in text and "[\n" not in text:
        text += minimal_system()
    with pytest.raises(ResponsesError) as caught:
        load_responses(write(tmp_path, text))
    assert any(expected in line for line in caught.value.lines), caught.value.lines


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ResponsesError) as caught:
        load_responses(tmp_path / "nope.yml")
    assert caught.value.lines == [
        f"{tmp_path / 'nope.yml'}: cannot read (No such file or directory)"
    ]


def test_buttons_in_the_file_become_inline_buttons(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intents:\n  greet:\n    - text: hi\n      buttons:\n"
        "        - [{label: Reset, data: 'intent:reset_password'}]\n"
        "      offer_person: true\n" + minimal_system(),
    )
    reply = load_responses(path).for_intent("greet", {})
    assert reply is not None
    assert [[b.data for b in row] for row in reply.buttons] == [
        ["intent:reset_password"],
        ["human"],
    ]


def test_the_command_menu_is_derived_from_the_help_message() -> None:
    help_text = "Just describe it.\n/human - talk to a person\n/start: the introduction\n/x y"
    assert menu_commands(help_text) == [
        ("human", "talk to a person"),
        ("start", "the introduction"),
    ]
    shipped = load_responses(REPO / "config" / "responses.yml")
    names = [name for name, _ in menu_commands(shipped.system("help").text)]
    assert names == ["human", "start", "help", "forget"]
