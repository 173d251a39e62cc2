"""The stored JSON form of a live conversation."""

from __future__ import annotations

import json

import pytest

from handoff.errors import StateError
from handoff.model import LiveConversation, Mode
from handoff.state import codec


def test_encode_writes_every_field_as_plain_json() -> None:
    value = LiveConversation(
        conversation_id=1,
        mode=Mode.HUMAN,
        failed_turns=2,
        last_answered_intent="greet",
        recent_texts=("hi", "I forgot my password"),
    )

    assert json.loads(codec.encode(value)) == {
        "conversation_id": 1,
        "mode": "human",
        "failed_turns": 2,
        "last_answered_intent": "greet",
        "handoff_id": None,
        "recent_texts": ["hi", "I forgot my password"],
    }
    assert codec.decode(codec.encode(value)) == value  # a tuple again, not a list


def test_round_trip_accepts_bytes_and_str() -> None:
    value = LiveConversation(conversation_id=1, mode=Mode.WAITING, handoff_id=3)

    assert codec.decode(codec.encode(value)) == value
    assert codec.decode(codec.encode(value).encode()) == value


def test_unknown_fields_are_ignored_and_missing_fields_default() -> None:
    assert codec.decode('{"conversation_id": 1, "from_the_future": true}') == LiveConversation(
        conversation_id=1
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff", "not JSON"),
        ("{", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"mode": "bot"}', "invalid"),
        ('{"conversation_id": 1, "mode": "paused"}', "invalid"),
    ],
)
def test_unusable_entries_raise_state_error(raw: str | bytes, message: str) -> None:
    with pytest.raises(StateError, match=message):
        codec.decode(raw)
