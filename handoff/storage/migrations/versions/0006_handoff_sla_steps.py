"""The SLA ladder's steps on the handoff: when the agents were re-pinged, when it was
escalated, and when its owner was last pinged for a reply.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Each is set by one conditional UPDATE (``... WHERE escalated_at IS NULL``), so that a step
is taken once however many workers watch the clocks, and not again after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
COLUMNS = ("repinged_at", "escalated_at", "idle_pinged_at")


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
