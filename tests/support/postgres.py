"""A fresh PostgreSQL database per test, created on the test server and dropped after."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES_URL_VARIABLE


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, *, prefix: str = "tandem_test") -> AsyncIterator[URL]:
    """The URL of a new, empty database on the server of ``server_url``; dropped (with its
    connections) when the block exits. Fails, never skips, when the server is unreachable."""
    server = make_url(server_url).set(drivername="postgresql+asyncpg")
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        await _execute(admin, f'CREATE DATABASE "{name}"', server)
        try:
            yield server.set(database=name)
        finally:
            await _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server)
    finally:
        await admin.dispose()


async def _execute(admin: AsyncEngine, statement: str, server: URL) -> None:
    problem: str | None = None
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    except (OSError, SQLAlchemyError) as exc:
        problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if problem is not None:  # failed outside the except block to keep the report short
        pytest.fail(
            f"PostgreSQL at {server.render_as_string(hide_password=True)} refused "
            f"{statement.split(' ', maxsplit=1)[0]} DATABASE ({problem}). Start it, or point "
            f"{POSTGRES_URL_VARIABLE} at a server where the tests may create databases.",
            pytrace=False,
        )
