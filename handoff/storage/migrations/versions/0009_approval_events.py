"""Approval for sensitive topics in the handoffs' audit trail: a request for approval, an
approval and a refusal are handoff events of their own kinds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Only the CHECK constraint on ``handoff_events.kind`` changes. SQLite cannot alter a
constraint, so the batch rebuilds the table there; PostgreSQL alters it in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("requested", "claimed", "transferred", "released", "returned", "closed", "rated")
AFTER = (*BEFORE, "approval_requested", "approved", "approval_refused")


def _kinds(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table("handoff_events") as batch:
        batch.drop_constraint(op.f("ck_handoff_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_handoff_events_kind"), _kinds(AFTER))


def downgrade() -> None:
    op.execute(
        "DELETE FROM handoff_events WHERE kind IN "
        "('approval_requested', 'approved', 'approval_refused')"
    )
    with op.batch_alter_table("handoff_events") as batch:
        batch.drop_constraint(op.f("ck_handoff_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_handoff_events_kind"), _kinds(BEFORE))
