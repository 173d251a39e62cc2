"""The SQL database: engine, schema migrations and transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import KeyedColumnElement

from handoff.errors import MigrationError, NotFound, StorageError, StorageUnavailable
from handoff.storage import direct, direct_sqlite, migrate
from handoff.storage.engine import SQLITE_BEGIN_OPTION, make_engine, parse_url, sqlite_file
from handoff.storage.translate import Violation, translate, violation

# What SQLAlchemy and the drivers raise; anything else is a bug and propagates unchanged.
_DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class Database:
    """One SQLite or PostgreSQL database.

    Create it with :meth:`from_url`, call :meth:`upgrade` at start, hand it to a
    :class:`~handoff.storage.repository.Repository`, and :meth:`dispose` it at shutdown.
    """

    def __init__(self, *, url: str) -> None:
        parsed = parse_url(url)
        path = sqlite_file(parsed)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the directory of {path}: {exc}") from exc
        self._url = parsed
        self._engine = make_engine(parsed)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        # SQLite has one writer at a time. Within the process, transactions queue here, in
        # order, rather than in SQLite's busy handler, which polls with sleeps; across
        # processes BEGIN IMMEDIATE (see engine.py) and the busy timeout take over.
        self._one_writer = asyncio.Lock() if self.backend == "sqlite" else None
        # An SQLite file is in WAL mode (engine.py): a reader sees the last commit before
        # its first read and takes no lock a writer waits for. In memory there is no WAL.
        self._readers_apart = path is not None
        # What makes a transaction one view: SQLite's is (a plain BEGIN when readers are
        # apart); PostgreSQL's default, READ COMMITTED, sees each statement's own.
        self._snapshot_options: dict[str, Any] = (
            {SQLITE_BEGIN_OPTION: "BEGIN" if self._readers_apart else "BEGIN IMMEDIATE"}
            if self.backend == "sqlite"
            else {"isolation_level": "REPEATABLE READ"}
        )
        # PostgreSQL runs a lone statement without BEGIN and COMMIT: two round trips fewer.
        self._autocommit = (
            self._engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.backend == "postgresql"
            else None
        )
        # The hot statements compiled for the driver (see fetch_one), by statement and names.
        self._direct: dict[tuple[int, tuple[str, ...]], tuple[object, direct.Compiled]] = {}

    @classmethod
    def from_url(cls, url: str) -> Database:
        """A database for an SQLAlchemy URL such as ``sqlite+aiosqlite:///var/tandem.db``.

        ``sqlite://`` and ``postgresql://`` URLs get the async drivers; the directory of an
        SQLite file is created if missing. Nothing is connected until first use.
        """
        return cls(url=url)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def sync_engine(self) -> Engine:
        """The engine under the async one, for event listeners (see :mod:`.counting`)."""
        return self._engine.sync_engine

    def __repr__(self) -> str:
        return f"Database({self._url.render_as_string(hide_password=True)!r})"

    async def upgrade(self) -> None:
        """Migrate the schema to the newest revision; a no-op when it is already there.

        Safe to call at every start, also from several processes at once.
        """
        try:
            await migrate.upgrade(self._engine)
        except CommandError as exc:
            raise MigrationError(f"cannot upgrade {self!r}: {exc}") from exc
        except _DATABASE_ERRORS as exc:
            error = translate(exc, doing=f"upgrading {self!r}")
            if isinstance(error, StorageUnavailable):
                raise error from exc
            raise MigrationError(str(error)) from exc

    async def current_revision(self) -> str | None:
        """The schema revision the database is at, or None before the first upgrade."""
        try:
            return await migrate.current_revision(self._engine)
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=f"reading the revision of {self!r}") from exc

    async def dispose(self) -> None:
        """Close every pooled connection. The database may still be used afterwards."""
        try:
            await self._engine.dispose()
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=f"closing {self!r}") from exc

    def _writer(self) -> AbstractAsyncContextManager[object]:
        return self._one_writer if self._one_writer is not None else nullcontext()

    @asynccontextmanager
    async def statements(self, *, doing: str) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction, for plain statements on the hot path (every
        customer message): a fraction of an ORM session's CPU. Errors as :meth:`transaction`."""
        try:
            async with self._writer(), self._engine.begin() as connection:
                yield connection
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc

    @asynccontextmanager
    async def snapshot(self, *, doing: str) -> AsyncIterator[AsyncConnection]:
        """A connection reading one consistent view, for reads over much history (the
        figures for /metrics, reports). Rolled back at the end: nothing is written.

        On an SQLite file the transaction begins with a plain BEGIN and skips the queue of
        writers: such a read took hundreds of milliseconds on a large database, and as a
        write transaction (BEGIN IMMEDIATE) it held every customer's turn up meanwhile.
        On PostgreSQL it is REPEATABLE READ, whose readers never wait for writers either.
        Errors as :meth:`transaction`."""
        try:
            async with (
                nullcontext() if self._readers_apart else self._writer(),
                self._engine.connect() as connection,
            ):
                await connection.execution_options(**self._snapshot_options)
                async with connection.begin() as transaction:
                    yield connection
                    await transaction.rollback()
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc

    @asynccontextmanager
    async def statement(self, *, doing: str) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement, atomic by itself: on PostgreSQL it commits as it
        runs (no BEGIN, no COMMIT); on SQLite it is :meth:`statements` (the single writer
        still queues). Errors as :meth:`transaction`."""
        if self._autocommit is None:
            async with self.statements(doing=doing) as connection:
                yield connection
            return
        try:
            async with self._autocommit.connect() as connection:
                yield connection
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc

    async def fetch_one(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any],
        *,
        doing: str,
        returning: Sequence[KeyedColumnElement[Any]] = (),
        missing_parent: NotFound | None = None,
    ) -> tuple[Any, ...] | None:
        """One statement on the driver itself, committed as it runs (PostgreSQL: see
        :mod:`.direct`; SQLite: :mod:`.direct_sqlite`, its one-statement transaction): its
        first row (``returning``'s columns, by name), or None. A foreign key the statement
        breaks raises ``missing_parent`` when given; other errors as :meth:`transaction`."""
        compiled = self._compiled(statement, parameters, returning)
        try:
            if self._one_writer is None:
                return await direct.fetch_one(self._engine, compiled, parameters)
            async with self._one_writer:
                step = direct_sqlite.Step(compiled, parameters)
                return (await direct_sqlite.run(self._engine, [step])).returned
        except IntegrityError as exc:
            if missing_parent is not None and violation(exc) is Violation.FOREIGN_KEY:
                raise missing_parent from exc
            raise translate(exc, doing=doing) from exc
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc

    async def write_all(
        self, steps: Sequence[tuple[ClauseElement, Mapping[str, Any], int]], *, doing: str
    ) -> int | None:
        """SQLite only: the statements in one transaction, in one call to the connection's
        thread (see :mod:`.direct_sqlite`); each must change the number of rows that comes
        with it for the next to run. None when all ran and committed, else the index of the
        first that did not, with nothing stored. Errors as :meth:`transaction`."""
        assert self._one_writer is not None, "PostgreSQL runs a turn as one statement"
        prepared = [
            direct_sqlite.Step(self._compiled(statement, values, ()), values, rows)
            for statement, values, rows in steps
        ]
        try:
            async with self._one_writer:
                return (await direct_sqlite.run(self._engine, prepared)).stopped_at
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc

    def _compiled(
        self,
        statement: ClauseElement,
        parameters: Mapping[str, Any],
        returning: Sequence[KeyedColumnElement[Any]],
    ) -> direct.Compiled:
        """``statement`` compiled for the driver once per statement and parameter names."""
        key = (id(statement), tuple(parameters))
        cached = self._direct.get(key)
        if cached is None:
            dialect = self._engine.dialect
            compiled = direct.compile_for(
                statement, dialect, parameters=key[1], returning=returning
            )
            if self._one_writer is not None:  # SQLite: results converted by column types
                compiled = direct_sqlite.describe(compiled, dialect)
            cached = self._direct[key] = (statement, compiled)  # the statement kept alive
        return cached[1]

    @asynccontextmanager
    async def transaction(self, *, doing: str) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction, committed on success and rolled back on error.

        For the storage package's repositories only: sessions and rows stay inside the
        package. Database errors leave as :class:`StorageError` whose message starts with
        ``doing`` (e.g. "adding a message").
        """
        try:
            async with self._writer(), self._sessions() as session, session.begin():
                yield session
        except _DATABASE_ERRORS as exc:
            raise translate(exc, doing=doing) from exc
