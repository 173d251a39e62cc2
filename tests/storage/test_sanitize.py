"""Text that no UTF-8 encoder or PostgreSQL accepts is stored changed, never refused.

Before the fix, a message with a lone surrogate raised UnicodeEncodeError on SQLite and
StorageError on PostgreSQL (whose ``jsonb`` also refuses a ``\\ud800`` escape), so the
customer's message was lost.
"""

from __future__ import annotations

import pytest

from handoff.storage import Conversation, HandoffEventKind, Repository
from handoff.storage.sanitize import clean_json, clean_text
from tests.storage.test_messages import customer_message

LONE = "\ud800"
PAIR_AS_TWO_CODE_POINTS = "\ud83d\ude00"  # how a Python literal can hold an emoji's halves
GRINNING = "\N{GRINNING FACE}"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("plain text", "plain text"),
        (f"a{LONE}b", "a\ufffdb"),
        ("\udfff", "\ufffd"),
        ("\ude00\ud83d", "\ufffd\ufffd"),  # halves in the wrong order form no pair
        (f"x{PAIR_AS_TWO_CODE_POINTS}y", f"x{GRINNING}y"),
        (f"{GRINNING} already whole", f"{GRINNING} already whole"),
        (f"nul\x00{LONE}", "nul\ufffd\ufffd"),
    ],
)
def test_clean_text_leaves_only_encodable_text(given: str, stored: str) -> None:
    cleaned = clean_text(given)

    assert cleaned == stored
    cleaned.encode("utf-8")  # raises on anything left over


def test_clean_json_cleans_keys_and_nested_strings() -> None:
    assert clean_json({f"k{LONE}": [LONE, {"v": f"x{LONE}"}], "n": 1}) == {
        "k\ufffd": ["\ufffd", {"v": "x\ufffd"}],
        "n": 1,
    }


async def test_a_message_with_lone_surrogates_is_stored(
    repository: Repository, conversation: Conversation
) -> None:
    stored = await repository.add_message(
        customer_message(
            conversation,
            text=f"help {LONE} me",
            nlu={"text": f"help {LONE} me", "entities": [{"value": LONE}]},
            decision={f"why{LONE}": ["x"]},
        )
    )

    assert stored is not None
    (read,) = await repository.recent_messages(conversation.id, limit=1)
    assert read.text == "help \ufffd me"
    assert read.nlu == {"text": "help \ufffd me", "entities": [{"value": "\ufffd"}]}
    assert read.decision == {"why\ufffd": ["x"]}


async def test_a_handoff_whose_details_hold_lone_surrogates_is_stored(
    repository: Repository, conversation: Conversation
) -> None:
    handoff = await repository.create_handoff(
        conversation_id=conversation.id,
        reason="frustration",
        reason_detail={"last_text": f"angry {LONE}"},
    )
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.CLAIMED, detail={"text": LONE}
    )

    read = await repository.get_handoff(handoff.id)
    assert read is not None
    assert read.reason_detail == {"last_text": "angry \ufffd"}
    events = await repository.handoff_events(handoff.id)
    assert [event.detail for event in events] == [{"text": "\ufffd"}]


async def test_names_with_a_lone_surrogate_are_stored(repository: Repository) -> None:
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="9", display_name="Ada \ud800", username="a\udfff"
    )
    assert customer.display_name == "Ada \ufffd"
    assert customer.username == "a\ufffd"
