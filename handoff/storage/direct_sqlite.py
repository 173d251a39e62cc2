"""SQLite's hot writes as one call to the connection's thread: BEGIN IMMEDIATE, the
statements, COMMIT, all there at once.

Through SQLAlchemy's execution a bot-answered turn on SQLite made a hop to aiosqlite's
thread for BEGIN, for each of its three statements and for COMMIT, besides SQLAlchemy's
own work per statement (an execution context, the compiled cache's key, the adapter's
cursor and result). Here the statements are compiled once (:mod:`.direct`), their values
converted by their columns' types as SQLAlchemy converts them, and the transaction runs
whole in the thread, where the statements always ran: a long one never stalls the event
loop. Errors become the SQLAlchemy exceptions SQLAlchemy raises, which callers translate
as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.storage.direct import Compiled
from handoff.storage.engine import SQLITE_DEFAULT_BEGIN
from handoff.storage.sqlite_driver import InlineConnection


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of a transaction: its values by name, and the number of rows it must
    change for the transaction to go on (None: any number)."""

    compiled: Compiled
    parameters: Mapping[str, Any]
    rows: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """``stopped_at``: the index of the step that changed another number of rows than it
    must (everything rolled back), or None when every step ran and the whole committed;
    ``returned``: then the last step's first returned row (None: it returned none)."""

    stopped_at: int | None
    returned: tuple[Any, ...] | None = None


def describe(compiled: Compiled, dialect: Dialect) -> Compiled:
    """``compiled`` with the result processors SQLAlchemy uses for its returned columns
    (SQLite's are chosen by the columns' types alone)."""
    compiled.results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in compiled.returning
    )
    return compiled


async def run(engine: AsyncEngine, steps: Sequence[Step]) -> Outcome:
    """``steps`` in one transaction on a pooled connection, in one call to its thread.
    Raises SQLAlchemy's exceptions, as its execution does."""
    arguments = [step.compiled.arguments(step.parameters) for step in steps]
    # Checked out and given back through SQLAlchemy's connection, not the bare pool: the
    # pool's reset (a rollback) has to run in SQLAlchemy's greenlet, and a reset that fails
    # there throws the connection away.
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        driver = pooled.driver_connection
        assert isinstance(driver, InlineConnection)  # engine.py connects through it
        call = asyncio.ensure_future(driver.call(_transaction, steps, arguments))
        try:
            stopped_at, record = await asyncio.shield(call)
        except asyncio.CancelledError:
            # The connection goes back to the pool only once its thread has finished the
            # transaction (committed or rolled back): the next user must find none open.
            await asyncio.wait([call])
            if not call.cancelled():
                call.exception()  # retrieved: the caller was cancelled, it learns nothing
            raise
        except _StepFailed as failed:
            step = steps[failed.index]
            raise sa_exc.DBAPIError.instance(
                step.compiled.sql,
                dict(step.parameters),
                failed.error,
                engine.dialect.loaded_dbapi.Error,
                dialect=engine.dialect,
            ) from failed.error
    if stopped_at is not None or record is None or not steps[-1].compiled.returning:
        return Outcome(stopped_at)
    return Outcome(None, steps[-1].compiled.made(record))


class _StepFailed(Exception):
    """sqlite3's ``error`` at the step ``index`` (its BEGIN or COMMIT counted as the first
    or last step), out of the connection's thread."""

    def __init__(self, index: int, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def _transaction(
    connection: sqlite3.Connection, steps: Sequence[Step], arguments: Sequence[list[Any]]
) -> tuple[int | None, Sequence[Any] | None]:
    """In the connection's thread: the steps, committed, or rolled back at the first step
    whose row count is not the one it must have (its index returned)."""
    index = 0
    try:
        connection.execute(SQLITE_DEFAULT_BEGIN)
        record = None
        for index, (step, values) in enumerate(zip(steps, arguments, strict=True)):
            cursor = connection.execute(step.compiled.sql, values)
            try:
                records = cursor.fetchall()  # to the end: RETURNING's count is known then
                count = cursor.rowcount
            finally:
                cursor.close()
            if step.rows is not None and count != step.rows:
                connection.rollback()
                return index, None
            record = records[0] if records else None
        connection.commit()
    except sqlite3.Error as error:
        _roll_back(connection)
        raise _StepFailed(index, error) from error
    except BaseException:
        _roll_back(connection)
        raise
    return None, record


def _roll_back(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.rollback()
