"""PostgreSQL's hot statements on the driver itself (handoff.storage.direct): what fails is
reported as through SQLAlchemy, and a connection the server dropped is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from handoff.errors import ConversationNotFound, StorageUnavailable
from handoff.model import Mode
from handoff.records import Conversation
from handoff.storage import Database, Repository
from tests.storage.conftest import START
from tests.storage.test_messages import customer_message
from tests.storage.test_turns import turn

on_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def _drop_connections(database_url: str) -> int:
    """Has the server end every other connection to the database, as a restart would."""
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await engine.dispose()
    return int(ended or 0)


@on_postgres
async def test_a_dropped_connection_fails_one_statement_then_is_replaced(
    repository: Repository, conversation: Conversation, database_url: str
) -> None:
    first = await repository.add_message(customer_message(conversation, platform_message_id="1"))
    assert first is not None
    assert await _drop_connections(database_url) >= 1

    with pytest.raises(StorageUnavailable, match="adding a message"):
        await repository.add_message(customer_message(conversation, platform_message_id="2"))
    second = await repository.add_message(customer_message(conversation, platform_message_id="2"))
    assert second is not None

    await _drop_connections(database_url)
    with pytest.raises(StorageUnavailable, match="recording a turn"):
        await repository.record_turn(turn(conversation, second.id))
    await repository.record_turn(turn(conversation, second.id))
    stored = await repository.recent_messages(conversation.id, limit=10)
    assert [m.text for m in stored][-1] == "To reset your password: ..."


@on_postgres
async def test_a_message_of_an_unknown_conversation(
    repository: Repository, conversation: Conversation
) -> None:
    with pytest.raises(ConversationNotFound):
        await repository.add_message(
            customer_message(conversation, conversation_id=conversation.id + 1000)
        )


async def test_unreachable_postgres_fails_the_hot_statements_as_unavailable() -> None:
    database = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    conversation = Conversation(
        id=1,
        customer_id=1,
        channel="telegram",
        chat_id="1",
        mode=Mode.BOT,
        failed_turns=0,
        last_answered_intent=None,
        opened_at=START,
        closed_at=None,
        rating=None,
        rated_at=None,
    )
    try:
        repository = Repository(database=database)
        with pytest.raises(StorageUnavailable, match="adding a message"):
            await repository.add_message(customer_message(conversation))
        with pytest.raises(StorageUnavailable, match="recording a turn"):
            await repository.record_turn(turn(conversation, 1))
    finally:
        await database.dispose()
