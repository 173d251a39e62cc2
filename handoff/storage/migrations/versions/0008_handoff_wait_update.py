"""When the customer waiting for a person got their one update with choices (keep waiting,
back to the bot, leave a message for later); an index of claim times, from which the
customer's estimate is measured (the latest claims).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Set by one conditional UPDATE, like the SLA ladder's steps (0006): sent once across workers
and not again after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("wait_updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_handoffs_claimed_at"), "handoffs", ["claimed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handoffs_claimed_at"), table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("wait_updated_at")
