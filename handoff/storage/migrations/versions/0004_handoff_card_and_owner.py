"""The handoff keeps its card and the agents it introduced; its owner is the one record of
who has the conversation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

- ``handoffs.card``: what the card shows besides the state (the customer, the transcript up
  to the request), captured when the handoff opens, so that redrawing the card reads no
  messages. Filled here for every existing handoff from the last 12 messages before its
  request (the default ``conversation.transcript_lines``).
- ``handoffs.introduced``: the agents introduced to the customer in the handoff, a JSON
  object of user id -> the id of their first reply (which the introduction goes out
  with), set in the transaction that stores that reply instead of looked for in the last
  200 messages. Filled here for open handoffs from their agents' messages.
- ``conversations.mode``: 'human' is no longer written: the mode is 'waiting' while the
  conversation has an open handoff, and whether a person owns it is the handoff's owner.
  Existing 'human' rows become 'waiting'. The CHECK still allows 'human', so that workers
  of the previous release running during a deploy are not refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TRANSCRIPT_LINES = 12

_handoffs = sa.table(
    "handoffs",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.Integer),
    sa.column("requested_at", sa.DateTime(timezone=True)),
    sa.column("outcome", sa.String),
    sa.column("card", JSON),
    sa.column("introduced", JSON),
)
_messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.Integer),
    sa.column("author", sa.String),
    sa.column("author_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("text", sa.Text),
    sa.column("intent", sa.String),
    sa.column("confidence", sa.Float),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("card", JSON, nullable=True))
        batch.add_column(sa.Column("introduced", JSON, nullable=True))
    op.execute("UPDATE conversations SET mode = 'waiting' WHERE mode = 'human'")
    connection = op.get_bind()
    for handoff in connection.execute(sa.select(_handoffs)).all():
        values: dict[str, Any] = {"card": _card(connection, handoff)}
        if handoff.outcome is None:
            values["introduced"] = _introduced(connection, handoff)
        connection.execute(
            sa.update(_handoffs).where(_handoffs.c.id == handoff.id).values(**values)
        )


def downgrade() -> None:
    # Who owns an open handoff is on the handoff; the previous release read it from the mode.
    op.execute(
        "UPDATE conversations SET mode = 'human' WHERE mode = 'waiting' AND id IN "
        "(SELECT conversation_id FROM handoffs WHERE outcome IS NULL AND agent_id IS NOT NULL)"
    )
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("introduced")
        batch.drop_column("card")


def _card(connection: sa.Connection, handoff: Any) -> dict[str, Any]:
    customer = connection.execute(
        sa.text(
            "SELECT c.platform_user_id, c.display_name, c.username, c.language_code "
            "FROM customers c JOIN conversations v ON v.customer_id = c.id WHERE v.id = :id"
        ),
        {"id": handoff.conversation_id},
    ).one_or_none()
    rows = connection.execute(
        sa.select(_messages)
        .where(
            _messages.c.conversation_id == handoff.conversation_id,
            _messages.c.created_at <= handoff.requested_at,
        )
        .order_by(_messages.c.id.desc())
        .limit(TRANSCRIPT_LINES)
    ).all()
    return {
        "customer": None
        if customer is None
        else {
            "user_id": customer.platform_user_id,
            "display_name": customer.display_name,
            "username": customer.username,
            "language_code": customer.language_code,
        },
        "transcript": [
            {
                "author": row.author,
                "text": row.text or f"[{row.kind}]",
                "at": _iso(row.created_at),
                "intent": row.intent,
                "confidence": row.confidence,
            }
            for row in reversed(rows)
        ],
    }


def _introduced(connection: sa.Connection, handoff: Any) -> dict[str, int]:
    """Each agent who wrote in the open handoff, with their first message: one delivered
    already introduced them; one still waiting goes out introduced."""
    rows = connection.execute(
        sa.select(_messages.c.id, _messages.c.author_id)
        .where(
            _messages.c.conversation_id == handoff.conversation_id,
            _messages.c.author == "agent",
            _messages.c.created_at >= handoff.requested_at,
            _messages.c.author_id.is_not(None),
        )
        .order_by(_messages.c.id)
    ).all()
    first: dict[str, int] = {}
    for row in rows:
        first.setdefault(row.author_id, row.id)
    return first


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()
