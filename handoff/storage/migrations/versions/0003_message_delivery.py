"""The outbox: messages.delivery says whether a stored message still has to reach the other
side (an agent's reply to the customer, a customer's message to the agents' thread).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

NULL for every existing row: nothing to deliver. SQLite cannot add a CHECK constraint to a
table, so the batch rebuilds ``messages`` there; PostgreSQL alters it in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivery", sa.String(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_messages_delivery"), "delivery IN ('pending', 'delivered', 'failed')"
        )
    op.create_index(
        op.f("ix_messages_pending_delivery"),
        "messages",
        ["id"],
        sqlite_where=sa.text("delivery = 'pending'"),
        postgresql_where=sa.text("delivery = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_pending_delivery"), table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_delivery"), type_="check")
        batch.drop_column("delivery")
