"""Messages: storing, de-duplicating and reading back."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest

from handoff.model import Author
from handoff.storage import (
    Conversation,
    ConversationNotFound,
    Delivery,
    InvalidValue,
    MessageKind,
    MessageNotFound,
    NewMessage,
    Platform,
    Repository,
    StoredMessage,
)
from tests.storage.conftest import START


def customer_message(conversation: Conversation, **changes: Any) -> NewMessage:
    message = NewMessage(
        conversation_id=conversation.id,
        author=Author.CUSTOMER,
        platform=Platform.TELEGRAM,
        created_at=START,
        text="Where is my order?",
        platform_chat_id=conversation.chat_id,
        platform_message_id="100",
    )
    return replace(message, **changes)


async def test_add_message_stores_every_field(
    repository: Repository, conversation: Conversation
) -> None:
    nlu = {
        "intent_ranking": [
            {"name": "order_status", "confidence": 0.91},
            {"name": "greet", "confidence": 0.05},
        ],
        "entities": [{"entity": "order_id", "value": "A-17", "start": 3, "end": 7}],
    }
    decision = {"reasons": ["confident"], "threshold": 0.6, "failed_turns": 0}
    message = NewMessage(
        conversation_id=conversation.id,
        author=Author.CUSTOMER,
        platform=Platform.TELEGRAM,
        created_at=START,
        text="Where is order A-17?",
        kind=MessageKind.TEXT,
        intent="order_status",
        confidence=0.91,
        nlu=nlu,
        decision=decision,
        platform_chat_id="1001",
        platform_message_id="55",
    )

    stored = await repository.add_message(message)

    assert stored == StoredMessage(
        id=stored.id if stored else 0,
        conversation_id=conversation.id,
        author=Author.CUSTOMER,
        author_id=None,
        author_name=None,
        kind=MessageKind.TEXT,
        text="Where is order A-17?",
        intent="order_status",
        confidence=0.91,
        nlu=nlu,
        decision=decision,
        platform=Platform.TELEGRAM,
        platform_chat_id="1001",
        platform_message_id="55",
        created_at=START,
    )
    assert await repository.recent_messages(conversation.id, limit=10) == [stored]


async def test_agent_message_from_slack(repository: Repository, conversation: Conversation) -> None:
    stored = await repository.add_message(
        NewMessage(
            conversation_id=conversation.id,
            author=Author.AGENT,
            author_id="U024BE7LH",
            author_name="Bob",
            platform=Platform.SLACK,
            platform_chat_id="C0HANDOFF",
            platform_message_id="1700000000.000100",
            created_at=START,
            text="Hi, I'm Bob from support.",
        )
    )
    assert stored is not None
    assert (stored.author, stored.author_id, stored.author_name, stored.platform) == (
        Author.AGENT,
        "U024BE7LH",
        "Bob",
        Platform.SLACK,
    )


@pytest.mark.parametrize("author", list(Author))
async def test_every_author_is_accepted(
    repository: Repository, conversation: Conversation, author: Author
) -> None:
    stored = await repository.add_message(
        customer_message(conversation, author=author, platform_message_id=None)
    )
    assert stored is not None
    assert stored.author is author


async def test_every_kind_and_platform_is_accepted(
    repository: Repository, conversation: Conversation
) -> None:
    for number, kind in enumerate(MessageKind):
        for platform in Platform:
            stored = await repository.add_message(
                customer_message(
                    conversation,
                    kind=kind,
                    platform=platform,
                    text=None,
                    platform_message_id=f"{number}",
                )
            )
            assert stored is not None
            assert (stored.kind, stored.platform, stored.text) == (kind, platform, None)


async def test_kind_defaults_to_text(repository: Repository, conversation: Conversation) -> None:
    stored = await repository.add_message(customer_message(conversation))
    assert stored is not None
    assert stored.kind is MessageKind.TEXT


# De-duplication


async def test_a_redelivered_message_is_stored_once(
    repository: Repository, conversation: Conversation
) -> None:
    first = await repository.add_message(customer_message(conversation))
    second = await repository.add_message(customer_message(conversation, text="changed"))

    assert first is not None
    assert second is None
    assert await repository.recent_messages(conversation.id, limit=10) == [first]


async def test_concurrent_duplicates_are_stored_once(
    repository: Repository, conversation: Conversation
) -> None:
    message = customer_message(conversation, platform_message_id="777")

    results = await asyncio.gather(*(repository.add_message(message) for _ in range(10)))

    stored = [result for result in results if result is not None]
    assert len(stored) == 1
    assert await repository.recent_messages(conversation.id, limit=100) == stored


async def test_same_message_id_in_another_chat_or_platform_is_distinct(
    repository: Repository, conversation: Conversation
) -> None:
    # Telegram message ids restart in every chat; Slack ts values are per channel.
    messages = [
        customer_message(conversation, platform_chat_id="1001"),
        customer_message(conversation, platform_chat_id="2002"),
        customer_message(conversation, platform=Platform.SLACK, platform_chat_id="1001"),
    ]
    for message in messages:
        assert await repository.add_message(message) is not None
    assert len(await repository.recent_messages(conversation.id, limit=10)) == 3


async def test_messages_without_platform_ids_are_never_merged(
    repository: Repository, conversation: Conversation
) -> None:
    note = NewMessage(
        conversation_id=conversation.id,
        author=Author.SYSTEM,
        platform=Platform.INTERNAL,
        created_at=START,
        text="handed off",
    )
    first = await repository.add_message(note)
    second = await repository.add_message(note)
    assert first is not None
    assert second is not None
    assert first.id != second.id


async def test_message_for_a_missing_conversation(repository: Repository) -> None:
    with pytest.raises(ConversationNotFound):
        await repository.add_message(
            NewMessage(
                conversation_id=999_999,
                author=Author.CUSTOMER,
                platform=Platform.TELEGRAM,
                created_at=START,
                text="orphan",
            )
        )


# Validation


@pytest.mark.parametrize("confidence", [-0.01, 1.01, math.nan, math.inf])
def test_confidence_outside_zero_to_one_is_refused(confidence: float) -> None:
    with pytest.raises(InvalidValue, match="confidence"):
        NewMessage(
            conversation_id=1,
            author=Author.CUSTOMER,
            platform=Platform.TELEGRAM,
            created_at=START,
            confidence=confidence,
        )


def test_a_message_id_needs_its_chat() -> None:
    with pytest.raises(InvalidValue, match="platform_chat_id"):
        NewMessage(
            conversation_id=1,
            author=Author.CUSTOMER,
            platform=Platform.TELEGRAM,
            created_at=START,
            platform_message_id="5",
        )


def test_a_naive_created_at_is_refused() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        NewMessage(
            conversation_id=1,
            author=Author.CUSTOMER,
            platform=Platform.TELEGRAM,
            created_at=START.replace(tzinfo=None),
        )


# Content


async def test_unicode_emoji_and_very_long_text_round_trip(
    repository: Repository, conversation: Conversation
) -> None:
    # A family (joined by U+200D), a flag, astral-plane letters, a combining accent, a
    # zero-width space and a right-to-left override.
    emoji = "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1e6 \U0001f389"
    mixed = "Привет, 世界! مرحبا \U0001d518\U0001d52b\U0001d526 e\u0301 \u200b\u202e"
    long_text = (mixed + emoji) * 40_000  # 1.48 million characters, 3.5 MB of UTF-8
    nlu = {"entities": [{"value": emoji, "text": mixed}], "note": "ключ"}

    for number, text in enumerate([emoji, mixed, long_text]):
        stored = await repository.add_message(
            customer_message(conversation, text=text, nlu=nlu, platform_message_id=str(number))
        )
        assert stored is not None
        assert stored.text == text
        assert stored.nlu == nlu

    texts = [message.text for message in await repository.recent_messages(conversation.id, limit=3)]
    assert texts == [emoji, mixed, long_text]


async def test_nul_characters_are_replaced_not_rejected(
    repository: Repository, conversation: Conversation
) -> None:
    # PostgreSQL cannot store NUL; both backends store U+FFFD instead.
    stored = await repository.add_message(
        customer_message(
            conversation,
            text="a\x00b",
            nlu={"entities": [{"value": "x\x00"}], "k\x00": ["\x00"]},
        )
    )
    assert stored is not None
    assert stored.text == "a\ufffdb"
    assert stored.nlu == {"entities": [{"value": "x\ufffd"}], "k\ufffd": ["\ufffd"]}


async def test_created_at_round_trips_in_utc(
    repository: Repository, conversation: Conversation
) -> None:
    created_at = (START + timedelta(microseconds=654321)).astimezone(timezone(timedelta(hours=-7)))
    stored = await repository.add_message(customer_message(conversation, created_at=created_at))
    assert stored is not None
    (read,) = await repository.recent_messages(conversation.id, limit=1)
    for value in (stored.created_at, read.created_at):
        assert value == created_at
        assert value.utcoffset() == timedelta(0)


# Reading


async def test_recent_messages_are_the_last_ones_oldest_first(
    repository: Repository, conversation: Conversation, customer_id_for_other: int
) -> None:
    other = await repository.open_conversation(
        customer_id=customer_id_for_other, channel="telegram", chat_id="other"
    )
    for number in range(6):
        await repository.add_message(
            customer_message(conversation, text=f"m{number}", platform_message_id=str(number))
        )
        await repository.add_message(
            customer_message(
                other,
                text=f"other{number}",
                platform_chat_id="other",
                platform_message_id=str(number),
            )
        )

    recent = await repository.recent_messages(conversation.id, limit=4)

    assert [message.text for message in recent] == ["m2", "m3", "m4", "m5"]
    assert await repository.recent_messages(conversation.id, limit=0) == []
    assert len(await repository.recent_messages(conversation.id, limit=100)) == 6
    assert await repository.recent_messages(999_999, limit=5) == []
    with pytest.raises(InvalidValue):
        await repository.recent_messages(conversation.id, limit=-1)


@pytest.fixture
async def customer_id_for_other(repository: Repository) -> int:
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="other", display_name="Other"
    )
    return customer.id


# The outbox: what still has to reach the other side


async def test_delivery_is_stored_and_defaults_to_nothing_to_deliver(
    repository: Repository, conversation: Conversation
) -> None:
    plain = await repository.add_message(customer_message(conversation))
    pending = await repository.add_message(
        customer_message(conversation, platform_message_id="101", delivery=Delivery.PENDING)
    )
    assert plain is not None
    assert pending is not None
    assert (plain.delivery, pending.delivery) == (None, Delivery.PENDING)
    assert await repository.get_message(pending.id) == pending
    assert await repository.get_message(999_999) is None


async def test_mark_delivery_records_the_outcome_and_keeps_the_decision(
    repository: Repository, conversation: Conversation
) -> None:
    stored = await repository.add_message(
        customer_message(conversation, delivery=Delivery.PENDING, decision={"action": "relay"})
    )
    assert stored is not None

    marked = await repository.mark_delivery(
        stored.id, Delivery.DELIVERED, detail={"sent_id": "1700000001.000001"}
    )

    assert marked.delivery is Delivery.DELIVERED
    assert marked.decision == {"action": "relay", "sent_id": "1700000001.000001"}
    assert await repository.get_message(stored.id) == marked
    failed = await repository.mark_delivery(stored.id, Delivery.FAILED)
    assert (failed.delivery, failed.decision) == (Delivery.FAILED, marked.decision)
    retracted = await repository.mark_delivery(stored.id, Delivery.RETRACTED)  # a state of its own
    assert (await repository.get_message(stored.id)) == retracted
    assert retracted.delivery is Delivery.RETRACTED
    with pytest.raises(MessageNotFound):
        await repository.mark_delivery(999_999, Delivery.DELIVERED)


async def test_pending_deliveries_are_the_older_pending_ones_oldest_first(
    repository: Repository, conversation: Conversation
) -> None:
    stored = []
    for number in range(5):
        message = await repository.add_message(
            customer_message(
                conversation,
                platform_message_id=str(number),
                created_at=START + timedelta(seconds=number),
                delivery=Delivery.PENDING,
            )
        )
        assert message is not None
        stored.append(message)
    await repository.add_message(customer_message(conversation, platform_message_id="plain"))
    await repository.mark_delivery(stored[1].id, Delivery.DELIVERED)
    await repository.mark_delivery(stored[2].id, Delivery.FAILED)

    cutoff = START + timedelta(seconds=4)  # the last one is too recent
    found = await repository.pending_deliveries(older_than=cutoff, limit=10)

    assert [m.id for m in found] == [stored[0].id, stored[3].id]
    assert await repository.pending_deliveries(older_than=cutoff, limit=1) == found[:1]
    assert await repository.pending_deliveries(older_than=START, limit=10) == []
    with pytest.raises(InvalidValue):
        await repository.pending_deliveries(older_than=cutoff, limit=-1)
    with pytest.raises(InvalidValue, match="timezone-aware"):
        await repository.pending_deliveries(older_than=cutoff.replace(tzinfo=None), limit=1)
