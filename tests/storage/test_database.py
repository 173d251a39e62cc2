"""Database: URLs, migrations, connection settings and failures."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Connection, inspect, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from handoff.errors import StorageError
from handoff.model import Mode
from handoff.storage import (
    Database,
    MigrationError,
    Repository,
    StorageUnavailable,
    UnsupportedDatabase,
    head_revision,
)
from handoff.storage.migrate import alembic_config
from handoff.storage.tables import Base
from tests.storage.conftest import START
from tests.storage.migration_rows import add_conversation, add_row

TABLES = {
    "customers",
    "conversations",
    "messages",
    "handoffs",
    "handoff_events",
    "privacy_events",
    "lessons",
}


async def _run_sync(database_url: str, work: Any) -> Any:
    """Run ``work(connection)`` on a connection of the tests' own (not the Database's)."""
    engine = create_async_engine(make_url(database_url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_creates_the_schema(database: Database, database_url: str) -> None:
    assert await database.current_revision() is None
    assert await _run_sync(database_url, _table_names) == set()

    await database.upgrade()

    assert await database.current_revision() == head_revision() == "0011"
    assert await _run_sync(database_url, _table_names) == {*TABLES, "alembic_version"}


async def test_an_upgrade_says_in_one_line_what_changed_and_a_no_op_says_nothing(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    await database.upgrade()
    await database.upgrade()

    said = [r.getMessage() for r in caplog.records if r.name == "handoff.storage.migrate"]
    assert said == [f"database schema upgraded from empty to {head_revision()}"]


async def test_upgrade_twice_is_a_no_op_and_keeps_data(migrated: Database) -> None:
    repository = Repository(database=migrated)
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="7", display_name="Grace"
    )

    await migrated.upgrade()

    assert await migrated.current_revision() == head_revision()
    again = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="7", display_name="Grace"
    )
    assert again == customer


async def test_concurrent_upgrades_of_one_database_all_succeed(
    database: Database, database_url: str
) -> None:
    # Two services starting at once: separate engines (as in separate processes) and the
    # same engine twice.
    other = Database.from_url(database_url)
    try:
        await asyncio.gather(database.upgrade(), other.upgrade(), database.upgrade())
    finally:
        await other.dispose()
    assert await database.current_revision() == head_revision()


async def test_migrated_schema_matches_the_models(migrated: Database, database_url: str) -> None:
    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    assert await _run_sync(database_url, differences) == []


async def test_migrated_constraint_names_match_the_models(
    migrated: Database, database_url: str
) -> None:
    # compare_metadata ignores CHECK constraints, so compare their names here.
    def check_names(connection: Connection) -> set[str]:
        inspector = inspect(connection)
        return {
            str(check["name"])
            for table in TABLES
            for check in inspector.get_check_constraints(table)
        }

    expected = {
        str(constraint.name)
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert await _run_sync(database_url, check_names) == expected


async def test_downgrade_to_base_and_upgrade_again(migrated: Database, database_url: str) -> None:
    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection=connection), "base")

    await _run_sync(database_url, downgrade)
    assert await migrated.current_revision() is None
    assert await _run_sync(database_url, _table_names) == {"alembic_version"}

    await migrated.upgrade()
    assert await migrated.current_revision() == head_revision()


async def test_0003_keeps_existing_messages_with_nothing_to_deliver(
    database: Database, database_url: str
) -> None:
    def at_0002_with_a_message(connection: Connection) -> None:
        command.upgrade(alembic_config(connection=connection), "0002")
        conversation = add_conversation(connection)
        add_row(
            connection,
            "messages",
            conversation_id=conversation,
            author="agent",
            platform="slack",
            text="Hi",
            created_at=START,
        )

    def downgrade_to_0002(connection: Connection) -> None:
        command.downgrade(alembic_config(connection=connection), "0002")

    await _run_sync(database_url, at_0002_with_a_message)
    await database.upgrade()

    repository = Repository(database=database)
    conversation = await repository.get_open_conversation(channel="telegram", chat_id="7")
    assert conversation is not None
    [message] = await repository.recent_messages(conversation.id, limit=10)
    assert (message.text, message.delivery) == ("Hi", None)
    later = START + timedelta(days=1)
    assert await repository.pending_deliveries(older_than=later, limit=10) == []

    await _run_sync(database_url, downgrade_to_0002)
    assert await database.current_revision() == "0002"
    count = await _run_sync(
        database_url, lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar_one()
    )
    assert count == 1


async def test_0010_marks_the_answers_retracted_before_retracted(
    database: Database, database_url: str
) -> None:
    retracted = {"action": "answer", "retracted": {"at": START.isoformat(), "by": "U1"}}

    def at_0009_with_two_answers(connection: Connection) -> None:
        command.upgrade(alembic_config(connection=connection), "0009")
        conversation = add_conversation(connection)
        for number, decision in enumerate([retracted, {"action": "answer"}]):
            add_row(
                connection,
                "messages",
                conversation_id=conversation,
                author="bot",
                platform="telegram",
                text=f"answer {number}",
                decision=decision,
                delivery="delivered",
                created_at=START + timedelta(seconds=number),
            )

    def states(connection: Connection) -> list[str | None]:
        rows = connection.execute(text("SELECT delivery FROM messages ORDER BY id"))
        return [row[0] for row in rows]

    await _run_sync(database_url, at_0009_with_two_answers)
    await database.upgrade()
    assert await _run_sync(database_url, states) == ["retracted", "delivered"]

    def downgrade_to_0009(connection: Connection) -> None:
        command.downgrade(alembic_config(connection=connection), "0009")

    await _run_sync(database_url, downgrade_to_0009)
    assert await _run_sync(database_url, states) == ["delivered", "delivered"]


async def test_upgrade_from_an_unknown_revision_fails(
    migrated: Database, database_url: str
) -> None:
    def stamp_unknown(connection: Connection) -> None:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))

    await _run_sync(database_url, stamp_unknown)

    with pytest.raises(MigrationError, match="ffffffffffff"):
        await migrated.upgrade()


async def test_dispose_then_use_again(migrated: Database) -> None:
    await migrated.dispose()
    await migrated.dispose()
    assert await migrated.current_revision() == head_revision()


async def test_sqlite_creates_the_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tandem.db"
    database = Database.from_url(f"sqlite:///{path}")  # the async driver is filled in
    try:
        assert path.parent.is_dir()
        await database.upgrade()
    finally:
        await database.dispose()
    with sqlite3.connect(path) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


async def test_sqlite_goes_to_its_thread_only_to_execute_and_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiosqlite runs every call in the connection's thread; opening and closing cursors,
    # fetching rows and the pool's rollback of an idle connection run inline: a
    # one-statement transaction is three trips (BEGIN, the statement, COMMIT), not nine.
    trips: list[str] = []
    to_thread = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await to_thread(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    database = Database.from_url(f"sqlite:///{tmp_path / 'tandem.db'}")
    try:
        await database.upgrade()
        repository = Repository(database=database)
        customer = await repository.get_or_create_customer(
            channel="telegram", platform_user_id="1", display_name="Trips"
        )
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        found = await repository.get_customer(customer.id)
        assert found is not None
        assert trips == ["execute", "execute", "commit"]  # BEGIN IMMEDIATE, SELECT, COMMIT
    finally:
        await database.dispose()


async def test_sqlite_in_memory_works(tmp_path: Path) -> None:
    database = Database.from_url("sqlite+aiosqlite://")
    try:
        await database.upgrade()
        repository = Repository(database=database)
        customer = await repository.get_or_create_customer(
            channel="telegram", platform_user_id="1", display_name="Mem"
        )
        assert customer.id == 1
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "mysql+aiomysql://user@localhost/db",
        "sqlite+pysqlite:///x.db",
        "postgresql+psycopg2://user@localhost/db",
        "not a url",
    ],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedDatabase):
        Database.from_url(url)


def test_repr_hides_the_password() -> None:
    database = Database.from_url("postgresql://tandem:s3cret@db.example/tandem")
    assert "s3cret" not in repr(database)
    assert "postgresql+asyncpg://tandem:***@db.example/tandem" in repr(database)


async def test_unreachable_postgres_raises_storage_unavailable() -> None:
    # Port 1 on localhost refuses connections immediately.
    database = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StorageUnavailable, match="unavailable"):
            await database.upgrade()
        with pytest.raises(StorageUnavailable):
            await database.current_revision()
        with pytest.raises(StorageUnavailable):
            await Repository(database=database).get_conversation(1)
    finally:
        await database.dispose()


async def test_unmigrated_database_raises_storage_error(database: Database) -> None:
    # A missing table is not an outage: retrying will not help.
    with pytest.raises(StorageError, match="reading a conversation") as raised:
        await Repository(database=database).get_conversation(1)
    assert not isinstance(raised.value, StorageUnavailable)


async def test_sqlite_takes_fifty_concurrent_read_then_write_turns(tmp_path: Path) -> None:
    """Each turn reads a row and then writes it; in WAL mode a deferred BEGIN failed such a
    turn at once with "database is locked" (42 of 50 failed before BEGIN IMMEDIATE and one
    writer per process)."""
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    await database.upgrade()
    repository = Repository(database=database)

    async def turn(number: int) -> None:
        customer = await repository.get_or_create_customer(
            channel="telegram", platform_user_id=str(number), display_name="c"
        )
        conversation = await repository.open_conversation(
            customer_id=customer.id, channel="telegram", chat_id=str(number)
        )
        await repository.update_conversation(
            conversation.id, mode=Mode.BOT, failed_turns=1, last_answered_intent="greet"
        )
        await repository.create_handoff(
            conversation_id=conversation.id, reason="requested", reason_detail={}
        )

    try:
        await asyncio.gather(*(turn(number) for number in range(50)))
        assert len(await repository.active_conversations()) == 50
    finally:
        await database.dispose()


async def test_a_snapshot_neither_waits_for_a_writer_nor_sees_what_it_commits_later(
    migrated: Database,
) -> None:
    repository = Repository(database=migrated)
    customers = "SELECT count(*) FROM customers"
    await repository.get_or_create_customer(
        channel="telegram", platform_user_id="1", display_name="Ada"
    )
    async with migrated.snapshot(doing="reading") as reader:
        assert (await reader.execute(text(customers))).scalar_one() == 1
        # A writer commits meanwhile, and another is in the middle of its transaction (on
        # SQLite it holds the write lock): the reading goes on, on the view it began with.
        await repository.get_or_create_customer(
            channel="telegram", platform_user_id="2", display_name="Grace"
        )
        async with migrated.transaction(doing="writing") as writer:
            await writer.execute(text("UPDATE customers SET display_name = 'A' WHERE id = 1"))
            seen = await asyncio.wait_for(reader.execute(text(customers)), timeout=30)
            assert seen.scalar_one() == 1
    async with migrated.snapshot(doing="reading") as reader:
        assert (await reader.execute(text(customers))).scalar_one() == 2
