"""The repository's side of the SLA ladder (:mod:`handoff.sla`): the open handoffs as the
ladder sees them, and each step taken once, by one conditional UPDATE, across workers; and
the queue as the waiting customer is told it (:mod:`handoff.waiting`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.model import Agent, Author, ConversationKey, DeskThread
from handoff.records import HandoffEventKind
from handoff.sla import SlaStep, SlaSubject
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.tables import ConversationRow, HandoffEventRow, HandoffRow, MessageRow

_HANDOFFS = cast(Table, HandoffRow.__table__)
_CONVERSATIONS = cast(Table, ConversationRow.__table__)
_MESSAGES = cast(Table, MessageRow.__table__)
_EVENTS = cast(Table, HandoffEventRow.__table__)

_COLUMN = {
    SlaStep.REPING: _HANDOFFS.c.repinged_at,
    SlaStep.ESCALATE: _HANDOFFS.c.escalated_at,
    SlaStep.IDLE_REPING: _HANDOFFS.c.idle_pinged_at,
    SlaStep.WAIT_UPDATE: _HANDOFFS.c.wait_updated_at,
}
_OWNERSHIP = (HandoffEventKind.CLAIMED.value, HandoffEventKind.TRANSFERRED.value)


class SlaQueries(RepositoryBase):
    async def sla_subjects(self) -> list[SlaSubject]:
        """Every open handoff whose card is posted, oldest first."""
        last_reply = (
            select(func.max(_MESSAGES.c.created_at))
            .where(
                _MESSAGES.c.conversation_id == _HANDOFFS.c.conversation_id,
                _MESSAGES.c.author == Author.AGENT.value,
                _MESSAGES.c.created_at >= _HANDOFFS.c.requested_at,
            )
            .scalar_subquery()
        )
        # A transfer keeps the first claim's time; the new owner's clock starts at the transfer.
        owned_since = (
            select(func.max(_EVENTS.c.at))
            .where(_EVENTS.c.handoff_id == _HANDOFFS.c.id, _EVENTS.c.kind.in_(_OWNERSHIP))
            .scalar_subquery()
        )
        released = (
            select(func.max(_EVENTS.c.at))
            .where(
                _EVENTS.c.handoff_id == _HANDOFFS.c.id,
                _EVENTS.c.kind == HandoffEventKind.RELEASED.value,
            )
            .scalar_subquery()
        )
        statement = (
            select(
                _HANDOFFS,
                _CONVERSATIONS.c.channel,
                _CONVERSATIONS.c.chat_id,
                last_reply.label("last_reply_at"),
                owned_since.label("owned_since"),
                released.label("released_at"),
            )
            .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _HANDOFFS.c.conversation_id)
            .where(_HANDOFFS.c.outcome.is_(None), _HANDOFFS.c.agent_thread_ts.is_not(None))
            .order_by(_HANDOFFS.c.id)
        )
        async with self._database.statements(doing="reading the SLA clocks") as connection:
            rows = (await connection.execute(statement)).all()
        return [_subject(row) for row in rows]

    async def mark_sla_step(
        self, handoff_id: int, step: SlaStep, *, at: datetime, anchor: datetime
    ) -> bool:
        """Record that ``step``, whose clock started at ``anchor``, is taken at ``at``;
        False if it is no longer due (another worker took it, or the handoff changed)."""
        at = self._at(at, "at")
        anchor = self._at(anchor, "anchor")
        column = _COLUMN[step]
        async with self._database.statements(doing="recording an SLA step") as connection:
            result = await connection.execute(
                update(_HANDOFFS)
                .where(_HANDOFFS.c.id == handoff_id, *_still_due(step, column, anchor))
                .values({column.name: at})
                .returning(_HANDOFFS.c.id)
            )
            return result.one_or_none() is not None

    async def queue_position(self, handoff_id: int) -> int:
        """Where an unclaimed handoff stands among those waiting: 1 is next."""
        async with self._database.statements(doing="reading the queue") as connection:
            return await _position(connection, handoff_id)

    async def recent_claim_waits(self, *, limit: int) -> list[float]:
        """Seconds from request to claim of the last ``limit`` handoffs claimed, newest first."""
        async with self._database.statements(doing="reading recent claims") as connection:
            spans = await _claim_spans(connection, limit)
        return [max(0.0, (claimed - requested).total_seconds()) for requested, claimed in spans]

    async def queue_view(
        self, handoff_id: int, *, claims: int
    ) -> tuple[int, list[tuple[datetime, datetime]]]:
        """:meth:`queue_position` and when the last ``claims`` handoffs claimed were
        requested and claimed, newest first, in one transaction."""
        async with self._database.statements(doing="reading the queue") as connection:
            return await _position(connection, handoff_id), await _claim_spans(connection, claims)

    async def unmark_sla_step(
        self, handoff_id: int, step: SlaStep, *, at: datetime, previous: datetime | None
    ) -> None:
        """Undo :meth:`mark_sla_step` (its post failed), so that the next look tries again."""
        column = _COLUMN[step]
        async with self._database.statements(doing="undoing an SLA step") as connection:
            await connection.execute(
                update(_HANDOFFS)
                .where(_HANDOFFS.c.id == handoff_id, column == self._at(at, "at"))
                .values({column.name: previous})
            )


async def _position(connection: AsyncConnection, handoff_id: int) -> int:
    ahead = await connection.scalar(
        select(func.count())
        .select_from(_HANDOFFS)
        .where(
            _HANDOFFS.c.outcome.is_(None),
            _HANDOFFS.c.agent_id.is_(None),
            _HANDOFFS.c.id < handoff_id,
        )
    )
    return int(ahead or 0) + 1


async def _claim_spans(connection: AsyncConnection, limit: int) -> list[tuple[datetime, datetime]]:
    rows = (
        await connection.execute(
            select(_HANDOFFS.c.requested_at, _HANDOFFS.c.claimed_at)
            .where(_HANDOFFS.c.claimed_at.is_not(None))
            .order_by(_HANDOFFS.c.claimed_at.desc())
            .limit(limit)
        )
    ).all()
    return [(row.requested_at, row.claimed_at) for row in rows]


def _still_due(step: SlaStep, column: Any, anchor: datetime) -> list[ColumnElement[bool]]:
    """What the handoff must still be for ``step`` to be taken now."""
    is_open = _HANDOFFS.c.outcome.is_(None)
    if step is SlaStep.IDLE_REPING:
        # Not pinged since the owner went quiet: a ping after ``anchor`` is this stretch's.
        quiet = or_(column.is_(None), column < anchor)
        return [is_open, _HANDOFFS.c.agent_id.is_not(None), quiet]
    unclaimed = and_(is_open, _HANDOFFS.c.agent_id.is_(None))
    # Not taken since it became unclaimed (``anchor``: the request, or the last release).
    not_yet = or_(column.is_(None), column < anchor)
    if step is SlaStep.WAIT_UPDATE:
        return [unclaimed, not_yet]
    escalated = _HANDOFFS.c.escalated_at
    return [unclaimed, not_yet, or_(escalated.is_(None), escalated < anchor)]


def _subject(row: Any) -> SlaSubject:
    owner = Agent(row.agent_id, row.agent_name or row.agent_id) if row.agent_id else None
    claimed = [t for t in (row.claimed_at, row.owned_since) if t is not None]
    return SlaSubject(
        handoff_id=row.id,
        key=ConversationKey(channel=row.channel, chat_id=row.chat_id),
        thread=DeskThread(channel=row.agent_channel, thread_ts=row.agent_thread_ts),
        requested_at=row.requested_at,
        owner=owner,
        claimed_at=max(claimed, default=None),
        last_agent_reply_at=row.last_reply_at,
        repinged_at=row.repinged_at,
        escalated_at=row.escalated_at,
        idle_pinged_at=row.idle_pinged_at,
        wait_updated_at=row.wait_updated_at,
        released_at=row.released_at,
    )
