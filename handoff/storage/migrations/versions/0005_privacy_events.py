"""The privacy audit trail: reveals of masked personal data, exports, erasures, customers'
requests to be forgotten, texts removed after the retention period.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

A table of its own, without foreign keys, so that an erasure (which removes the customer's
conversations and handoffs) leaves its record. It never holds a message's text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
# TEMPORARY: "0003" until 0004 (being written in parallel) lands; then "0004".
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
KINDS = "kind IN ('revealed', 'exported', 'erased', 'forget_requested', 'expired')"


def upgrade() -> None:
    op.create_table(
        "privacy_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_id", sa.String(), nullable=True),
        sa.Column("actor_name", sa.String(), nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("handoff_id", ID, nullable=True),
        sa.Column("message_ids", JSON, nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_privacy_events_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_events")),
    )
    op.create_index(
        op.f("ix_privacy_events_customer_id"), "privacy_events", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_events_customer_id"), table_name="privacy_events")
    op.drop_table("privacy_events")
