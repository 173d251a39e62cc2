"""What ``tandem report`` reads: each conversation opened in a period and each of their
handoffs, with the times the report's charts are drawn from.

The same cohort as ``tandem stats`` (:mod:`handoff.storage.metrics`): the conversations
opened in ``[since, until)``, and their handoffs whenever they happened. The arithmetic
(per day, percentiles, breaches) is the report's, over these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from handoff.clock import as_utc
from handoff.errors import InvalidValue
from handoff.storage.database import Database
from handoff.storage.metrics import first_reply_at
from handoff.storage.tables import ConversationRow, HandoffRow


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    opened_at: datetime
    rating: int | None
    reason: str | None  # the first handoff's reason; None: the bot handled it alone


@dataclass(frozen=True, slots=True)
class HandoffFacts:
    requested_at: datetime
    reason: str
    claimed_at: datetime | None
    first_reply_at: datetime | None
    closed_at: datetime | None  # closed by an agent
    ended_at: datetime | None  # closed, or returned to the bot


@dataclass(frozen=True, slots=True)
class ReportFacts:
    since: datetime
    until: datetime
    conversations: tuple[ConversationFacts, ...]
    handoffs: tuple[HandoffFacts, ...]  # oldest first


async def report_facts(database: Database, *, since: datetime, until: datetime) -> ReportFacts:
    """The facts of the conversations opened from ``since`` until before ``until`` (both
    timezone-aware; :class:`InvalidValue` otherwise, or if ``since`` is after ``until``)."""
    since, until = as_utc(since, field="since"), as_utc(until, field="until")
    if since > until:
        raise InvalidValue(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    window = and_(ConversationRow.opened_at >= since, ConversationRow.opened_at < until)
    async with database.snapshot(doing="reading the facts for the report") as session:
        handoff_rows = (
            await session.execute(
                select(
                    HandoffRow.conversation_id,
                    HandoffRow.requested_at,
                    HandoffRow.reason,
                    HandoffRow.claimed_at,
                    first_reply_at(),
                    HandoffRow.closed_at,
                    func.coalesce(HandoffRow.closed_at, HandoffRow.returned_at),
                )
                .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
                .where(window)
                .order_by(HandoffRow.requested_at, HandoffRow.id)
            )
        ).all()
        conversation_rows = (
            await session.execute(
                select(ConversationRow.id, ConversationRow.opened_at, ConversationRow.rating)
                .where(window)
                .order_by(ConversationRow.opened_at)
            )
        ).all()
    first_reason: dict[int, str] = {}
    for row in handoff_rows:
        first_reason.setdefault(row[0], row[2])
    return ReportFacts(
        since=since,
        until=until,
        conversations=tuple(
            ConversationFacts(opened_at=opened, rating=rating, reason=first_reason.get(id_))
            for id_, opened, rating in conversation_rows
        ),
        handoffs=tuple(
            HandoffFacts(
                requested_at=requested,
                reason=reason,
                claimed_at=claimed,
                first_reply_at=replied,
                closed_at=closed,
                ended_at=ended,
            )
            for _, requested, reason, claimed, replied, closed, ended in handoff_rows
        ),
    )
