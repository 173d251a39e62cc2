"""Turning SQLAlchemy and driver exceptions into :mod:`handoff.errors`.

Messages carry the driver's one-line description but never the SQL parameters, which may
hold customers' messages.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

from sqlalchemy import exc as sa_exc

from handoff.errors import StorageError, StorageUnavailable


class Violation(Enum):
    """Which kind of constraint an INSERT or UPDATE broke."""

    UNIQUE = "unique"
    FOREIGN_KEY = "foreign key"
    CHECK = "check"
    NOT_NULL = "not null"


_POSTGRES_STATES = {
    "23505": Violation.UNIQUE,
    "23503": Violation.FOREIGN_KEY,
    "23514": Violation.CHECK,
    "23502": Violation.NOT_NULL,
}
_SQLITE_CODES = {
    sqlite3.SQLITE_CONSTRAINT_UNIQUE: Violation.UNIQUE,
    sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY: Violation.UNIQUE,
    sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: Violation.FOREIGN_KEY,
    sqlite3.SQLITE_CONSTRAINT_CHECK: Violation.CHECK,
    sqlite3.SQLITE_CONSTRAINT_NOTNULL: Violation.NOT_NULL,
}

# Errors after which retrying later may work: the server is down, restarting, or busy.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection became free in time
    OSError,  # the driver could not open a socket at all
    TimeoutError,
)


# SQLite reports a missing table or a syntax error as OperationalError too; only these
# primary result codes mean the file is busy or unreachable.
_SQLITE_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
    }
)


def _is_unavailable(error: Exception) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, _UNAVAILABLE):
        return False
    code = getattr(getattr(error, "orig", None), "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_UNAVAILABLE_CODES
    return True


def violation(error: sa_exc.IntegrityError) -> Violation | None:
    """The kind of constraint ``error`` reports, if the driver says."""
    # asyncpg errors come wrapped with the SQLSTATE; sqlite3 errors carry the extended code.
    state = getattr(error.orig, "sqlstate", None)
    if isinstance(state, str):
        return _POSTGRES_STATES.get(state)
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_CODES.get(code)
    return None


def describe(error: BaseException) -> str:
    """A one-line description of ``error`` without SQL text or parameters."""
    cause: BaseException = error
    if isinstance(error, sa_exc.StatementError) and error.orig is not None:
        cause = error.orig
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else ""
    name = type(cause).__name__
    return f"{name}: {first}" if first else name


def translate(error: Exception, *, doing: str) -> StorageError:
    """The storage error to raise (``from error``) for ``error`` raised while ``doing``."""
    if isinstance(error, StorageError):
        return error
    if _is_unavailable(error):
        return StorageUnavailable(f"{doing}: database unavailable ({describe(error)})")
    return StorageError(f"{doing}: database error ({describe(error)})")
