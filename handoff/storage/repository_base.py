"""What every part of the repository shares: the database, the clock, transactions."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.clock import Clock, as_utc, utc_now
from handoff.storage.database import Database


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
