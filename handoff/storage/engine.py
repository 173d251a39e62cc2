"""Which database URLs are accepted, and how engines for them are configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from handoff.errors import UnsupportedDatabase
from handoff.storage import sqlite_driver

# The only async drivers installed; a bare ``sqlite://`` or ``postgresql://`` gets these.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
ALIASES = {"postgres": "postgresql"}  # what some hosts call it in the URLs they hand out

# How long an SQLite connection waits for another connection's write lock before failing
# with "database is locked". Writes are short, but a migration may hold the lock longer.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# Execution option naming the statement that opens an SQLite transaction on a connection.
# The default is BEGIN IMMEDIATE: a plain (deferred) BEGIN that reads and then writes
# must upgrade its lock, and in WAL mode that upgrade fails at once with "database is
# locked" whenever another connection wrote meanwhile, whatever the busy timeout. Taking the
# write lock at BEGIN makes the busy timeout apply, so concurrent writers (also in other
# processes) wait their turn instead of failing.
SQLITE_BEGIN_OPTION = "tandem_sqlite_begin"
SQLITE_DEFAULT_BEGIN = "BEGIN IMMEDIATE"
_SQLITE_BEGIN_STATEMENTS = frozenset({"BEGIN", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})

# Connections to PostgreSQL kept open, and opened beyond those under a burst: chats are
# handled concurrently, and a chat waiting for a connection waits with its lock held.
POSTGRES_POOL_SIZE = 16
POSTGRES_POOL_OVERFLOW = 16


def parse_url(url: str, *, any_driver: bool = False) -> URL:
    """The SQLAlchemy URL for ``url``, with the async driver filled in when none is named.

    The one reading of database URLs: the settings (``DATABASE_URL``) and :class:`Database`
    both use it. ``any_driver`` takes the usual spellings operators write (``postgres://``,
    a synchronous driver such as ``postgresql+psycopg2://``) and uses the async driver;
    otherwise a driver other than the async one is refused. Raises
    :class:`UnsupportedDatabase` with a line saying what is expected.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise UnsupportedDatabase(
            "expected a URL such as sqlite:///data/tandem.db or postgresql://user@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if any_driver and backend in ALIASES:
        backend = ALIASES[backend]
        parsed = parsed.set(drivername=backend)
    driver = ASYNC_DRIVERS.get(backend)
    if driver is None:
        raise UnsupportedDatabase(
            "expected a sqlite:// or postgresql:// URL (the supported databases)"
        )
    if parsed.drivername == backend or any_driver:
        return parsed.set(drivername=f"{backend}+{driver}")
    if parsed.drivername != f"{backend}+{driver}":
        raise UnsupportedDatabase(
            f"unsupported driver {parsed.drivername!r}: use {backend}+{driver}://"
        )
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite database, or None for an in-memory or ``file:`` URI database."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: URL) -> AsyncEngine:
    """An engine for ``url`` (as returned by :func:`parse_url`)."""
    options: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        # No pool_pre_ping: it cost three round trips (BEGIN, ";", ROLLBACK) per checkout,
        # a third of a customer turn's CPU (tandem bench load, py-spy). A connection the
        # server dropped fails its next statement instead; SQLAlchemy discards it and the
        # error is StorageUnavailable, which the intake retries on a fresh connection.
        options["pool_size"] = POSTGRES_POOL_SIZE
        options["max_overflow"] = POSTGRES_POOL_OVERFLOW
        return create_async_engine(url, **options)

    options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    engine = create_async_engine(url, **options)
    _configure_sqlite(engine, wal=sqlite_file(url) is not None)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 module, whose legacy mode never
        # BEGINs before DDL or SELECT: SQLAlchemy then emits BEGIN itself (on_begin), which
        # makes migrations atomic and reads repeatable. See the SQLAlchemy SQLite docs,
        # "Enabling Non-Legacy SQLite Transactional Modes".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # Off by default in SQLite, per connection.
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                # Readers no longer block the writer (and vice versa); persistent per file.
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        statement = connection.get_execution_options().get(
            SQLITE_BEGIN_OPTION, SQLITE_DEFAULT_BEGIN
        )
        if statement not in _SQLITE_BEGIN_STATEMENTS:
            raise ValueError(
                f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_SQLITE_BEGIN_STATEMENTS)}"
            )
        connection.exec_driver_sql(statement)

    def on_do_connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        # aiosqlite, with the calls that cannot wait run inline (see sqlite_driver).
        return dialect.loaded_dbapi.connect(
            *cargs, async_creator_fn=sqlite_driver.connect, **cparams
        )

    event.listen(engine.sync_engine, "do_connect", on_do_connect)
    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
