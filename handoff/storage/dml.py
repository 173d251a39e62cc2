"""INSERT statements with ``ON CONFLICT``, which SQLite and PostgreSQL spell alike.

Letting the database skip or merge a conflicting row is what makes de-duplication and
"get or create" safe when two workers race: there is no window between a check and an
insert, and no failed transaction to clean up.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from handoff.storage.tables import Base

Insert = postgresql.Insert | sqlite.Insert


def insert(backend: str, model: type[Base]) -> Insert:
    """An INSERT into ``model``'s table supporting ``on_conflict_*`` on ``backend``."""
    if backend == "postgresql":
        return postgresql.insert(model)
    if backend == "sqlite":
        return sqlite.insert(model)
    raise ValueError(f"no ON CONFLICT support for {backend!r}")
