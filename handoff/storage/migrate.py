"""Running the Alembic migrations in ``migrations/`` from code; there is no ``alembic.ini``.

Upgrading is safe to run at every start, from several processes at once: each upgrade
runs in one transaction that first takes a database-wide lock (``pg_advisory_xact_lock`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so latecomers wait and then find the schema at
head, and a failed upgrade leaves the previous revision in place.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.storage.engine import SQLITE_BEGIN_OPTION

MIGRATIONS = Path(__file__).with_name("migrations")

log = logging.getLogger(__name__)

# env.py reads the connection to migrate from the Alembic config under this key.
CONNECTION_ATTRIBUTE = "connection"

# Any fixed 64-bit number works; it only has to be the same for every Tandem process.
POSTGRES_LOCK_KEY = 0x74616E64656D  # "tandem"

# Alembic installs its ``context`` and ``op`` proxies as module globals while it runs, so
# two upgrades interleaving on one event loop (or in two threads) would corrupt each other.
_alembic_in_use = threading.Lock()
_LOCK_POLL_SECONDS = 0.05


def alembic_config(*, connection: Connection | None = None) -> Config:
    """An Alembic config for Tandem's migrations, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes[CONNECTION_ATTRIBUTE] = connection
    return config


def head_revision() -> str:
    """The revision the code expects the database to be at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


async def upgrade(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to head (a no-op when it is already there)."""
    async with _alembic_turn(), engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock before reading the current revision, not at the first DDL.
            await connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK_KEY}
                )
            await connection.run_sync(_upgrade_to_head)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revision)


def _upgrade_to_head(connection: Connection) -> None:
    before = _current_revision(connection)
    command.upgrade(alembic_config(connection=connection), "head")
    after = _current_revision(connection)
    # Alembic's own lines (one per revision, plus two about the dialect on every start) are
    # kept below WARNING, so every command that opens the database stays quiet; one line
    # says what changed, when something did.
    if after != before:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@asynccontextmanager
async def _alembic_turn() -> AsyncIterator[None]:
    # A threading lock works across event loops and threads, which an asyncio primitive
    # does not; polling it keeps the event loop free. Upgrades are rare, so the cost is nil.
    while not _alembic_in_use.acquire(blocking=False):  # noqa: ASYNC110
        await asyncio.sleep(_LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        _alembic_in_use.release()
