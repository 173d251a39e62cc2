"""SQLite's hot writes as one call to the connection's thread (handoff.storage.direct_sqlite):
one trip a turn, the transaction whole or not at all, errors reported as through
SQLAlchemy, and a cancelled caller never hands back a connection mid-transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from handoff.errors import ConversationClosed, StorageError
from handoff.records import Conversation
from handoff.storage import Database, Repository
from tests.storage.test_messages import customer_message
from tests.storage.test_turns import turn

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@on_sqlite
async def test_a_turn_is_one_trip_to_the_connections_thread(
    repository: Repository, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = await repository.add_message(customer_message(conversation))
    assert message is not None
    trips: list[str] = []
    to_thread = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await to_thread(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    await repository.record_turn(turn(conversation, message.id))
    await repository.add_message(customer_message(conversation, platform_message_id="2"))

    # Before: BEGIN, three statements and COMMIT, then BEGIN, the message and COMMIT.
    assert trips == ["_transaction", "_transaction"]
    monkeypatch.undo()
    stored = await repository.recent_messages(conversation.id, limit=10)
    assert [m.text for m in stored][1] == "To reset your password: ..."


@on_sqlite
async def test_a_turn_of_a_closed_conversation_stores_nothing(
    repository: Repository, conversation: Conversation
) -> None:
    message = await repository.add_message(customer_message(conversation))
    assert message is not None
    await repository.close_conversation(conversation.id)

    with pytest.raises(ConversationClosed):
        await repository.record_turn(turn(conversation, message.id))

    stored = await repository.recent_messages(conversation.id, limit=10)
    assert [m.id for m in stored] == [message.id]
    assert stored[0].intent is None  # the first statement of the turn was rolled back


@on_sqlite
async def test_a_statement_the_database_refuses_rolls_back_the_ones_before_it(
    migrated: Database, conversation: Conversation
) -> None:
    set_turns = text("UPDATE conversations SET failed_turns = :n WHERE id = :id")
    orphan = text("INSERT INTO messages (conversation_id) VALUES (:id)")  # NOT NULLs unset

    with pytest.raises(StorageError, match="doing both"):
        await migrated.write_all(
            [(set_turns, {"n": 7, "id": conversation.id}, 1), (orphan, {"id": 1}, 1)],
            doing="doing both",
        )

    async with migrated.snapshot(doing="reading") as connection:
        kept = await connection.scalar(
            text("SELECT failed_turns FROM conversations WHERE id = :id"),
            {"id": conversation.id},
        )
    assert kept == 0
    # The connection went back to the pool with no transaction open: the next write runs.
    assert (
        await migrated.write_all([(set_turns, {"n": 2, "id": conversation.id}, 1)], doing="x")
        is None
    )


@on_sqlite
async def test_a_write_cancelled_while_it_waits_finishes_before_its_connection_is_reused(
    repository: Repository, conversation: Conversation, tmp_path: Path
) -> None:
    # Another process holds SQLite's write lock: the write waits in its thread (busy time-out).
    other = sqlite3.connect(tmp_path / "not-yet-created" / "tandem.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    writing = asyncio.create_task(repository.add_message(customer_message(conversation)))
    await asyncio.sleep(0.2)  # let it reach the lock; nothing to observe from outside
    writing.cancel()
    await asyncio.sleep(0.05)
    assert not writing.done()  # it waits for its thread: the transaction is still open

    other.execute("COMMIT")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await writing

    # The write committed whole (its caller just never heard), and the connection it used
    # came back usable.
    again = await repository.add_message(customer_message(conversation, platform_message_id="2"))
    assert again is not None
    stored = await repository.recent_messages(conversation.id, limit=10)
    assert len(stored) == 2
