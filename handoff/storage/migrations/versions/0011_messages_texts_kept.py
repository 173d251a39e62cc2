"""Index the messages whose texts are still kept by when they were written, and the handoffs
whose cards still hold texts by when they were requested, so retention finds those past the
period without reading every message and every handoff.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Partial indexes: a message leaves its index when retention removes its text and what the
NLU saw in it; a handoff leaves its own when retention blanks its card's texts, which
``handoffs.texts_removed_at`` (new) records. So the hourly run reads only what crossed the
period since the last.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS_KEPT = "text IS NOT NULL OR nlu IS NOT NULL"
CARD_TEXTS_KEPT = "texts_removed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("texts_removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_handoffs_texts_kept"),
        "handoffs",
        ["requested_at"],
        sqlite_where=sa.text(CARD_TEXTS_KEPT),
        postgresql_where=sa.text(CARD_TEXTS_KEPT),
    )
    op.create_index(
        op.f("ix_messages_texts_kept"),
        "messages",
        ["created_at"],
        sqlite_where=sa.text(TEXTS_KEPT),
        postgresql_where=sa.text(TEXTS_KEPT),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_texts_kept"), table_name="messages")
    op.drop_index(op.f("ix_handoffs_texts_kept"), table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("texts_removed_at")
