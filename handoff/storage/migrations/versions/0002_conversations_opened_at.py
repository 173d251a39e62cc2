"""Index conversations by when they were opened, for the operators' metrics (`tandem stats`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_conversations_opened_at"), "conversations", ["opened_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_conversations_opened_at"), table_name="conversations")
