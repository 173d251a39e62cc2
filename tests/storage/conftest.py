"""Real databases for the storage tests: an SQLite file and a PostgreSQL database.

Every test that uses ``database``, ``migrated`` or ``repository`` runs once per backend.
PostgreSQL tests run in one database created for this test session (and dropped at its
end) whose schema is emptied before each test; they fail, never skip, when the server is
unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from handoff.storage import Conversation, Customer, Database, Repository
from tests.conftest import POSTGRES_URL_VARIABLE

BACKENDS = ["sqlite", "postgresql"]

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class StepClock:
    """A clock that advances one second per reading, so timestamps are distinct and known."""

    def __init__(self, start: datetime = START) -> None:
        self._next = start

    def __call__(self) -> datetime:
        now = self._next
        self._next += timedelta(seconds=1)
        return now


def _async_postgres_url(url: str) -> URL:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database of this test session's own; dropped when the session ends.

    It is created through the server named by ``postgres_url``; no other database is
    touched.
    """
    server = _async_postgres_url(postgres_url)
    name = f"tandem_test_storage_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    problem: str | None = None
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, SQLAlchemyError) as exc:
        problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if problem is not None:  # failed outside the except block to keep the report short
        await admin.dispose()
        pytest.fail(
            f"PostgreSQL is unreachable at {server.render_as_string(hide_password=True)} "
            f"({problem}). Start it, or point {POSTGRES_URL_VARIABLE} at a server where "
            "the tests may create databases.",
            pytrace=False,
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database; the SQLite file sits in a directory not yet created."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'not-yet-created' / 'tandem.db'}"
    else:
        yield request.getfixturevalue("postgres_database_url")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A database with no tables at all."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        await _empty_postgres_schema(url)
    database = Database.from_url(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def migrated(database: Database) -> Database:
    """A database upgraded to the newest schema."""
    await database.upgrade()
    return database


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def repository(migrated: Database, clock: StepClock) -> Repository:
    return Repository(database=migrated, clock=clock)


async def _empty_postgres_schema(url: URL) -> None:
    # The session's database is ours alone, so dropping its public schema is safe.
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture
async def customer(repository: Repository) -> Customer:
    return await repository.get_or_create_customer(
        channel="telegram", platform_user_id="1001", display_name="Ada Lovelace"
    )


@pytest.fixture
async def conversation(repository: Repository, customer: Customer) -> Conversation:
    return await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="1001"
    )
