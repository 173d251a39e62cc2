"""A bot's answer an agent retracted (deleted in the customer's chat) is a delivery state of
its own, ``retracted``: it was recorded ``delivered`` before, which the figures and the
export could not tell from an answer the customer still sees.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Only the CHECK constraint on ``messages.delivery`` changes, and the answers retracted
before (``delivered``, with ``retracted`` in their decision) move to the new state. SQLite
cannot alter a constraint, so the batch rebuilds the table there; PostgreSQL alters it in
place.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("pending", "delivered", "failed")
AFTER = (*BEFORE, "retracted")
# The answers retracted before this revision, by dialect: the decision is JSON on SQLite and
# JSONB on PostgreSQL, each with its own key lookup.
MOVE_RETRACTED = {
    "sqlite": "UPDATE messages SET delivery = 'retracted' WHERE delivery = 'delivered' "
    "AND author = 'bot' AND json_extract(decision, '$.retracted') IS NOT NULL",
    "postgresql": "UPDATE messages SET delivery = 'retracted' WHERE delivery = 'delivered' "
    "AND author = 'bot' AND decision -> 'retracted' IS NOT NULL",
}


def _states(states: Sequence[str]) -> str:
    return "delivery IN (" + ", ".join(f"'{state}'" for state in states) + ")"


def _set_constraint(states: Sequence[str]) -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_delivery"), type_="check")
        batch.create_check_constraint(op.f("ck_messages_delivery"), _states(states))


def upgrade() -> None:
    _set_constraint(AFTER)
    op.execute(MOVE_RETRACTED[op.get_bind().dialect.name])


def downgrade() -> None:
    op.execute("UPDATE messages SET delivery = 'delivered' WHERE delivery = 'retracted'")
    _set_constraint(BEFORE)
