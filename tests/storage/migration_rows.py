"""Rows written straight into a database at an older schema revision, for the migrations'
tests (the repository speaks only the newest schema)."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from handoff.storage.tables import Base
from tests.storage.conftest import START


def add_row(connection: Connection, table: str, **values: object) -> int:
    """Insert one row into ``table``; its id."""
    rows = Base.metadata.tables[table]
    return int(connection.execute(insert(rows).values(**values).returning(rows.c.id)).scalar_one())


def add_conversation(connection: Connection, **customer: object) -> int:
    """A customer on Telegram chat 7 (``customer`` overrides their fields) with a
    conversation in human mode; the conversation's id."""
    values: dict[str, object] = {"display_name": "G", **customer}
    customer_id = add_row(
        connection,
        "customers",
        channel="telegram",
        platform_user_id="7",
        created_at=START,
        **values,
    )
    return add_row(
        connection,
        "conversations",
        customer_id=customer_id,
        channel="telegram",
        chat_id="7",
        mode="human",
        opened_at=START,
    )
