"""What agents taught the bot: a customer's masked text and the intent an agent chose for
it, waiting for a trainer's review (``tandem nlu review``) and ``tandem nlu learn``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

No foreign keys: a lesson holds no personal data (its text is masked) and outlives the
conversation it came from. One lesson per stored message.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
STATUSES = "status IN ('pending', 'accepted', 'rejected', 'learned')"


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("handoff_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(), nullable=False),
        sa.Column("taught_by_id", sa.String(), nullable=False),
        sa.Column("taught_by_name", sa.String(), nullable=False),
        sa.Column("taught_at", TIMESTAMP, nullable=False),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reviewed_by", sa.String(), nullable=True),
        sa.Column("reviewed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(STATUSES, name=op.f("ck_lessons_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("message_id", name=op.f("uq_lessons_message_id")),
    )
    op.create_index(op.f("ix_lessons_status"), "lessons", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lessons_status"), table_name="lessons")
    op.drop_table("lessons")
