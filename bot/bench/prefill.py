"""Stored conversations for ``tandem bench load --stored N``: what a service that has run
for a while keeps, written before it starts, so the benchmark shows whether a turn's cost
grows with the data behind it.

Each is a closed conversation of its own customer with four messages (customer, bot,
customer, bot). The database makes the rows itself from a counter (one statement per
table, the same SQL on SQLite and PostgreSQL): 100,000 conversations take seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy import text as sql

from handoff.storage import Database
from handoff.storage.types import UtcDateTime

MESSAGES_EACH = 4

_CUSTOMERS = sql(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    "INSERT INTO customers (channel, platform_user_id, display_name, created_at) "
    "SELECT 'telegram', 'stored-' || i, 'Stored customer ' || i, :at FROM n"
)
_CONVERSATIONS = sql(
    "INSERT INTO conversations "
    "(customer_id, channel, chat_id, mode, failed_turns, opened_at, closed_at) "
    "SELECT id, 'telegram', platform_user_id, 'closed', 0, :at, :at FROM customers "
    "WHERE platform_user_id LIKE 'stored-%'"
)
_MESSAGES = sql(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    "INSERT INTO messages (conversation_id, author, kind, text, platform, "
    "platform_chat_id, platform_message_id, created_at) "
    "SELECT c.id, CASE WHEN n.i % 2 = 1 THEN 'customer' ELSE 'bot' END, 'text', "
    "'a message stored before the benchmark', 'telegram', c.chat_id, "
    "'' || n.i, :at FROM conversations AS c CROSS JOIN n "
    "WHERE c.chat_id LIKE 'stored-%'"
)


async def prefill(database_url: str, conversations: int) -> None:
    """Migrate the database at ``database_url`` and store ``conversations`` closed
    conversations in it."""
    database = Database.from_url(database_url)
    try:
        # The service migrates again at its start and says so; one account of it is enough.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        await database.upgrade()
        at = bindparam("at", value=datetime.now(UTC) - timedelta(days=1), type_=UtcDateTime())
        async with database.statements(doing="storing conversations for the benchmark") as db:
            await db.execute(_CUSTOMERS.bindparams(at), {"count": conversations})
            await db.execute(_CONVERSATIONS.bindparams(at))
            await db.execute(_MESSAGES.bindparams(at), {"count": MESSAGES_EACH})
    finally:
        await database.dispose()
