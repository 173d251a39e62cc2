"""aiosqlite with fewer trips to its thread: the calls that cannot wait run where they are
called.

aiosqlite runs every call of a connection in that connection's thread, one hop there and
back each (a queue put, a wake-up of the event loop through its self-pipe). SQLAlchemy's
adapter makes four calls per statement (open a cursor, execute, fetch, close the cursor),
so a bot-answered turn (its message, then BEGIN, three statements, COMMIT) took 26 hops,
most of the embedded default's extra CPU over PostgreSQL (cProfile: ~24 queue puts a turn).

Only what may wait needs the thread: a statement that takes a lock (``BEGIN IMMEDIATE``
waits for another process's write lock, up to the busy time-out; so may a statement outside
such a transaction) and ``commit`` (which writes to the disk). Opening and closing a cursor
and fetching the rows of a statement that has run touch no lock and no file: they run on the
event loop, and so do a commit or rollback with no transaction open (the pool's rollback of
every connection given back). So do the reads and writes inside a transaction that holds the
write lock already (begun with ``BEGIN IMMEDIATE`` or ``EXCLUSIVE``, as every write
transaction here is, see engine.py): they need no other lock, and the write reaches the disk
at the commit, in the thread. A bot-answered turn (its message; then three statements) made
8 hops, now 4: BEGIN and COMMIT of each transaction. Calls of one connection still never
overlap: SQLAlchemy awaits each before the next.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import aiosqlite

# The sqlite3 methods run inline, by the type that owns them.
_CURSOR_INLINE = frozenset({"close", "fetchall", "fetchmany", "fetchone"})
_CONNECTION_INLINE = frozenset({"cursor"})
# Inline when no transaction is open: nothing to do then (the pool rolls back every
# connection it is given back, after the commit).
_CONNECTION_IDLE = frozenset({"commit", "rollback"})
# The statements that take the write lock with the transaction (SQLite's own spellings).
_WRITE_LOCKING = frozenset({"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})
# Statements inline inside a transaction that holds the write lock: they read and write
# pages, nothing else (no COMMIT, no SAVEPOINT, no PRAGMA: those stay in the thread).
_IN_TRANSACTION_INLINE = frozenset({"INSERT", "UPDATE", "DELETE", "SELECT", "WITH", "REPLACE"})
_TRANSACTION_BOUNDS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK"})


def _inline(fn: Any) -> bool:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        return name in _CURSOR_INLINE
    if isinstance(owner, sqlite3.Connection):
        return name in _CONNECTION_INLINE or (name in _CONNECTION_IDLE and not owner.in_transaction)
    return False


def _statement(fn: Any, args: tuple[Any, ...]) -> str | None:
    """The SQL of a cursor's ``execute`` or ``executemany`` call, else None."""
    owner = getattr(fn, "__self__", None)
    if not isinstance(owner, sqlite3.Cursor) or getattr(fn, "__name__", "") not in (
        "execute",
        "executemany",
    ):
        return None
    return args[0] if args and isinstance(args[0], str) else None


def _bounds_transaction(fn: Any, sql: str | None) -> bool:
    """Whether the call begins or ends a transaction (a statement, or the connection's
    ``commit`` or ``rollback``)."""
    if sql is None:
        return isinstance(getattr(fn, "__self__", None), sqlite3.Connection) and (
            getattr(fn, "__name__", "") in _CONNECTION_IDLE
        )
    return _first_word(sql) in _TRANSACTION_BOUNDS


def _first_word(sql: str) -> str:
    words = sql.split(None, 1)
    return words[0].upper() if words else ""


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls that cannot wait skip the thread (see module)."""

    # Whether the open transaction was begun holding the write lock (see the module).
    _write_locked = False

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sql = _statement(fn, args)
        if _inline(fn) or (sql is not None and self._locked_statement(fn, sql)):
            if not self._running or not self._connection:
                raise ValueError("Connection closed")  # what aiosqlite raises
            return fn(*args, **kwargs)
        bounds = _bounds_transaction(fn, sql)
        if bounds:
            self._write_locked = False  # before: a commit that fails may end it all the same
        result = await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if bounds and sql is not None:
            self._write_locked = " ".join(sql.split()).upper() in _WRITE_LOCKING
        return result

    def _locked_statement(self, fn: Any, sql: str) -> bool:
        """Whether ``sql`` runs inside a transaction holding the write lock, and needs no
        other lock (see the module)."""
        if not self._write_locked:
            return False
        if not fn.__self__.connection.in_transaction:  # committed or rolled back since
            self._write_locked = False
            return False
        return _first_word(sql) in _IN_TRANSACTION_INLINE


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """What ``aiosqlite.connect`` returns, as an :class:`InlineConnection`; for SQLAlchemy's
    ``async_creator_fn``."""
    # Used from the event loop's thread as well as the connection's own.
    kwargs["check_same_thread"] = False
    connection = InlineConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy sets it for aiosqlite's own
    return connection
