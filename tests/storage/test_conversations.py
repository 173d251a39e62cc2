"""Customers and conversations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from handoff.errors import StorageError
from handoff.model import Mode
from handoff.storage import (
    Conversation,
    ConversationAlreadyOpen,
    ConversationClosed,
    ConversationNotFound,
    Customer,
    CustomerNotFound,
    Database,
    HandoffOutcome,
    InvalidRating,
    InvalidValue,
    Repository,
)
from tests.storage.conftest import START

# Customers


async def test_get_or_create_customer_creates_once(repository: Repository) -> None:
    first = await repository.get_or_create_customer(
        channel="telegram",
        platform_user_id="42",
        display_name="Ada",
        username="ada",
        language_code="en",
    )
    again = await repository.get_or_create_customer(
        channel="telegram",
        platform_user_id="42",
        display_name="Ada",
        username="ada",
        language_code="en",
    )

    assert again == first
    assert first.created_at == START
    assert await repository.get_customer(first.id) == first


async def test_get_or_create_customer_refreshes_a_changed_profile(repository: Repository) -> None:
    first = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="42", display_name="Ada", username="ada"
    )
    renamed = await repository.get_or_create_customer(
        channel="telegram",
        platform_user_id="42",
        display_name="Ada King",
        username=None,
        language_code="en",
    )

    assert renamed.id == first.id
    assert renamed.created_at == first.created_at
    assert (renamed.display_name, renamed.username, renamed.language_code) == (
        "Ada King",
        None,
        "en",
    )


async def test_customers_are_per_channel(repository: Repository) -> None:
    telegram = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="42", display_name="A"
    )
    other = await repository.get_or_create_customer(
        channel="whatsapp", platform_user_id="42", display_name="A"
    )
    assert telegram.id != other.id


async def test_concurrent_get_or_create_customer_yields_one_customer(
    repository: Repository,
) -> None:
    customers = await asyncio.gather(
        *(
            repository.get_or_create_customer(
                channel="telegram", platform_user_id="77", display_name="Racer"
            )
            for _ in range(8)
        )
    )
    assert len({customer.id for customer in customers}) == 1


async def test_unicode_profile_round_trips(repository: Repository) -> None:
    name = "Zoë 👩🏽‍💻 محمد 李雷 Ǆ\u0301"
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="u", display_name=name, language_code="ar"
    )
    assert customer.display_name == name
    stored = await repository.get_customer(customer.id)
    assert stored is not None
    assert stored.display_name == name


async def test_get_customer_missing_is_none(repository: Repository) -> None:
    assert await repository.get_customer(12345) is None


# Opening and finding conversations


async def test_open_conversation_starts_in_bot_mode(
    repository: Repository, customer: Customer
) -> None:
    conversation = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="555"
    )

    assert conversation.customer_id == customer.id
    assert conversation.mode is Mode.BOT
    assert conversation.failed_turns == 0
    assert conversation.last_answered_intent is None
    assert conversation.closed_at is None
    assert conversation.rating is None
    assert conversation.is_open
    assert str(conversation.key) == "telegram:555"
    assert await repository.get_conversation(conversation.id) == conversation
    found = await repository.get_open_conversation(channel="telegram", chat_id="555")
    assert found == conversation


async def test_get_open_conversation_ignores_other_chats_and_closed_ones(
    repository: Repository, conversation: Conversation
) -> None:
    assert await repository.get_open_conversation(channel="telegram", chat_id="other") is None
    assert await repository.get_open_conversation(channel="slack", chat_id="1001") is None

    await repository.close_conversation(conversation.id)

    assert await repository.get_open_conversation(channel="telegram", chat_id="1001") is None


async def test_only_one_open_conversation_per_chat(
    repository: Repository, conversation: Conversation, customer: Customer
) -> None:
    with pytest.raises(ConversationAlreadyOpen, match="telegram:1001"):
        await repository.open_conversation(
            customer_id=customer.id, channel="telegram", chat_id="1001"
        )

    closed = await repository.close_conversation(conversation.id)
    reopened = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="1001"
    )

    assert reopened.id != closed.id
    assert await repository.get_open_conversation(channel="telegram", chat_id="1001") == reopened


async def test_concurrent_opens_let_exactly_one_win(
    repository: Repository, customer: Customer
) -> None:
    results = await asyncio.gather(
        *(
            repository.open_conversation(
                customer_id=customer.id, channel="telegram", chat_id="race"
            )
            for _ in range(6)
        ),
        return_exceptions=True,
    )

    opened = [result for result in results if isinstance(result, Conversation)]
    refused = [result for result in results if isinstance(result, ConversationAlreadyOpen)]
    assert len(opened) == 1
    assert len(refused) == 5


async def test_open_conversation_for_a_missing_customer(repository: Repository) -> None:
    # Only a foreign key enforced by the database (PRAGMA foreign_keys on SQLite) finds this.
    with pytest.raises(CustomerNotFound):
        await repository.open_conversation(customer_id=999_999, channel="telegram", chat_id="1")


# Updating


async def test_update_conversation_changes_only_given_fields(
    repository: Repository, conversation: Conversation
) -> None:
    waiting = await repository.update_conversation(conversation.id, mode=Mode.WAITING)
    assert (waiting.mode, waiting.failed_turns, waiting.last_answered_intent) == (
        Mode.WAITING,
        0,
        None,
    )

    counted = await repository.update_conversation(
        conversation.id, failed_turns=2, last_answered_intent="greet"
    )
    assert (counted.mode, counted.failed_turns, counted.last_answered_intent) == (
        Mode.WAITING,
        2,
        "greet",
    )

    cleared = await repository.update_conversation(conversation.id, last_answered_intent=None)
    assert cleared.last_answered_intent is None
    assert cleared.failed_turns == 2

    unchanged = await repository.update_conversation(conversation.id)
    assert unchanged == cleared
    assert await repository.get_conversation(conversation.id) == cleared


async def test_update_conversation_refuses_bad_values(
    repository: Repository, conversation: Conversation
) -> None:
    with pytest.raises(InvalidValue, match="close_conversation"):
        await repository.update_conversation(conversation.id, mode=Mode.CLOSED)
    with pytest.raises(InvalidValue, match="negative"):
        await repository.update_conversation(conversation.id, failed_turns=-1)
    assert await repository.get_conversation(conversation.id) == conversation


async def test_update_of_closed_or_missing_conversation(
    repository: Repository, conversation: Conversation
) -> None:
    await repository.close_conversation(conversation.id)

    with pytest.raises(ConversationClosed):
        await repository.update_conversation(conversation.id, mode=Mode.HUMAN)
    with pytest.raises(ConversationNotFound):
        await repository.update_conversation(999_999, mode=Mode.HUMAN)
    with pytest.raises(ConversationNotFound):
        await repository.update_conversation(999_999)


async def test_close_conversation(repository: Repository, conversation: Conversation) -> None:
    at = START + timedelta(hours=1)
    closed = await repository.close_conversation(conversation.id, at=at)

    assert closed.mode is Mode.CLOSED
    assert closed.closed_at == at
    assert not closed.is_open

    with pytest.raises(ConversationClosed):
        await repository.close_conversation(conversation.id)
    with pytest.raises(ConversationNotFound):
        await repository.close_conversation(999_999)


# Ratings


@pytest.mark.parametrize("rating", [1, 3, 5])
async def test_rate_conversation(
    repository: Repository, conversation: Conversation, rating: int
) -> None:
    closed = await repository.close_conversation(conversation.id)
    rated = await repository.rate_conversation(conversation.id, rating=rating)

    assert rated.rating == rating
    assert rated.mode is Mode.CLOSED
    assert closed.closed_at is not None
    assert rated.rated_at is not None
    assert rated.rated_at > closed.closed_at


async def test_a_later_rating_replaces_an_earlier_one(
    repository: Repository, conversation: Conversation
) -> None:
    await repository.rate_conversation(conversation.id, rating=2)
    rated = await repository.rate_conversation(conversation.id, rating=4)
    assert rated.rating == 4


@pytest.mark.parametrize("rating", [0, 6, -1, 100, True, 3.5, "5"])
async def test_rating_outside_one_to_five_is_refused(
    repository: Repository, conversation: Conversation, rating: object
) -> None:
    with pytest.raises(InvalidRating, match="1 to 5") as raised:
        await repository.rate_conversation(conversation.id, rating=rating)  # type: ignore[arg-type]

    # Callers may catch it as any of these.
    assert isinstance(raised.value, InvalidValue | StorageError | ValueError)
    stored = await repository.get_conversation(conversation.id)
    assert stored is not None
    assert stored.rating is None


async def test_rating_a_missing_conversation(repository: Repository) -> None:
    with pytest.raises(ConversationNotFound):
        await repository.rate_conversation(999_999, rating=5)


# Timestamps


async def test_timestamps_round_trip_as_aware_utc(
    repository: Repository, customer: Customer
) -> None:
    # 18:30:00.123456 at +05:30 is 13:00:00.123456 UTC.
    india = timezone(timedelta(hours=5, minutes=30))
    opened_at = datetime(2026, 7, 1, 18, 30, 0, 123456, tzinfo=india)

    conversation = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="tz", at=opened_at
    )
    stored = await repository.get_conversation(conversation.id)

    assert stored is not None
    for value in (conversation.opened_at, stored.opened_at):
        assert value == datetime(2026, 7, 1, 13, 0, 0, 123456, tzinfo=UTC) == opened_at
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)


async def test_naive_timestamps_are_refused(repository: Repository, customer: Customer) -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        await repository.open_conversation(
            customer_id=customer.id,
            channel="telegram",
            chat_id="naive",
            at=datetime(2026, 1, 1, 12, 0),
        )
    assert await repository.get_open_conversation(channel="telegram", chat_id="naive") is None


async def test_a_naive_clock_is_refused(migrated: Database) -> None:
    repository = Repository(database=migrated, clock=lambda: datetime(2026, 1, 1, 12, 0))
    with pytest.raises(InvalidValue, match="clock"):
        await repository.get_or_create_customer(
            channel="telegram", platform_user_id="1", display_name="x"
        )


# Active conversations


async def test_active_conversations_list_open_ones_with_their_handoff(
    repository: Repository, customer: Customer
) -> None:
    bot = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="a"
    )
    waiting = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="b"
    )
    closed = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="c"
    )
    returned = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="d"
    )
    waiting = await repository.update_conversation(
        waiting.id, mode=Mode.WAITING, failed_turns=3, last_answered_intent="faq"
    )
    handoff = await repository.create_handoff(conversation_id=waiting.id, reason="failed_turns")
    await repository.close_conversation(closed.id)
    finished = await repository.create_handoff(conversation_id=returned.id, reason="asked")
    await repository.finish_handoff(finished.id, outcome=HandoffOutcome.RETURNED)

    active = await repository.active_conversations()

    assert [item.conversation.id for item in active] == [bot.id, waiting.id, returned.id]
    by_id = {item.conversation.id: item for item in active}
    assert by_id[bot.id].open_handoff is None
    assert by_id[returned.id].open_handoff is None
    assert by_id[waiting.id].open_handoff == handoff
    live = by_id[waiting.id].live()
    assert (
        live.conversation_id,
        live.mode,
        live.failed_turns,
        live.last_answered_intent,
        live.handoff_id,
    ) == (waiting.id, Mode.WAITING, 3, "faq", handoff.id)


async def test_active_conversations_empty(repository: Repository) -> None:
    assert await repository.active_conversations() == []
