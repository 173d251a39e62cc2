"""What every part of the repository shares: the database, the clock, transactions."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable

from handoff.clock import Clock, as_utc, utc_now
from handoff.errors import NotFound
from handoff.storage.database import Database
from handoff.storage.translate import Violation, violation


class RepositoryBase:
    """The database and clock of a :class:`~handoff.storage.repository.Repository`.

    ``at`` arguments default to ``clock()``; every timestamp must be timezone-aware and is
    returned in UTC.
    """

    def __init__(self, *, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    def _transaction(self, doing: str) -> AbstractAsyncContextManager[AsyncSession]:
        return self._database.transaction(doing=doing)

    def _now(self) -> datetime:
        return as_utc(self._clock(), field="clock()")

    def _at(self, at: datetime | None, field: str) -> datetime:
        return self._now() if at is None else as_utc(at, field=field)

    @staticmethod
    async def _insert_unless_conflict(
        session: AsyncSession | AsyncConnection,
        statement: Executable,
        parameters: Mapping[str, Any] | None = None,
        *,
        missing_parent: NotFound,
    ) -> Any:
        """Run an ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the new row, or None when
        an equal row exists (a repeat, or a lost race). A missing parent row (foreign key)
        raises ``missing_parent``."""
        try:
            if isinstance(session, AsyncConnection):  # plain rows, read by column name
                return (await session.execute(statement, parameters)).one_or_none()
            return (await session.scalars(statement, parameters)).one_or_none()
        except IntegrityError as exc:
            if violation(exc) is Violation.FOREIGN_KEY:
                raise missing_parent from exc
            raise
