"""aiosqlite with fewer trips to its thread: the calls that cannot wait run where they are
called.

aiosqlite runs every call of a connection in that connection's thread, one hop there and
back each (a queue put, a wake-up of the event loop through its self-pipe). SQLAlchemy's
adapter makes four calls per statement (open a cursor, execute, fetch, close the cursor),
so a bot-answered turn (its message, then BEGIN, three statements, COMMIT) took 26 hops,
most of the embedded default's extra CPU over PostgreSQL (cProfile: ~24 queue puts a turn).

Only ``execute`` (which may wait for another process's write lock, up to the busy time-out)
and ``commit`` (which writes to the disk) need the thread. Opening and closing a cursor and
fetching the rows of a statement that has run touch no lock and no file: they run on the
event loop, and so do a commit or rollback with no transaction open (the pool's rollback of
every connection given back), which leaves three hops for a one-statement transaction. Calls of one
connection still never overlap: SQLAlchemy awaits each before the next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import aiosqlite

_T = TypeVar("_T")

# The sqlite3 methods run inline, by the type that owns them.
_CURSOR_INLINE = frozenset({"close", "fetchall", "fetchmany", "fetchone"})
_CONNECTION_INLINE = frozenset({"cursor"})
# Inline when no transaction is open: nothing to do then (the pool rolls back every
# connection it is given back, after the commit).
_CONNECTION_IDLE = frozenset({"commit", "rollback"})


def _inline(fn: Any) -> bool:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        return name in _CURSOR_INLINE
    if isinstance(owner, sqlite3.Connection):
        return name in _CONNECTION_INLINE or (name in _CONNECTION_IDLE and not owner.in_transaction)
    return False


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls that cannot wait skip the thread (see module)."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if _inline(fn):
            if not self._running or not self._connection:
                raise ValueError("Connection closed")  # what aiosqlite raises
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(the sqlite3 connection, *args)`` in the connection's thread, as one call:
        a whole transaction there and back in one hop (see :mod:`.direct_sqlite`)."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")  # what aiosqlite raises
        result: _T = await super()._execute(fn, self._connection, *args)  # type: ignore[no-untyped-call]
        return result


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """What ``aiosqlite.connect`` returns, as an :class:`InlineConnection`; for SQLAlchemy's
    ``async_creator_fn``."""
    # Used from the event loop's thread as well as the connection's own.
    kwargs["check_same_thread"] = False
    connection = InlineConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy sets it for aiosqlite's own
    return connection
