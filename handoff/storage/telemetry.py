"""What ``/metrics`` reads from the record: counts and durations over the whole history.

The record is the one source of these figures, so they are the same on every worker, survive
a restart and need no counter kept beside the rows. Counts are grouped in SQL; durations are
differences of two timestamps, taken in Python (SQLite and PostgreSQL subtract them in
incompatible ways).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from handoff.drafts import DRAFTED, EDITED
from handoff.model import Author
from handoff.records import Delivery
from handoff.storage.database import Database
from handoff.storage.metrics import first_reply_at
from handoff.storage.tables import ConversationRow, HandoffRow, MessageRow

NO_REASON = "none"  # a decision no rule fired for (an answer)
NO_ROUTE = "none"  # a handoff whose card was never posted (no agent tool connected)


@dataclass(frozen=True, slots=True)
class Count:
    """How many rows share ``labels`` (in the order the family names them)."""

    labels: tuple[str, ...]
    value: int


@dataclass(frozen=True, slots=True)
class Telemetry:
    """The record's figures at one moment; durations in seconds, unordered."""

    conversations: tuple[Count, ...]  # by handed off ("true") or the bot's alone ("false")
    ratings: tuple[Count, ...]  # by score (1-5)
    messages: tuple[Count, ...]  # by author, platform
    decisions: tuple[Count, ...]  # by action, primary reason
    handoffs: tuple[Count, ...]  # by reason, route (the agent channel of the card)
    failed_deliveries: tuple[Count, ...]  # by platform
    waiting: int  # open handoffs nobody has claimed
    claimed: int  # open handoffs an agent owns
    time_to_claim: tuple[float, ...]
    first_response: tuple[float, ...]
    resolution: tuple[float, ...]
    agent_replies: tuple[Count, ...] = ()  # by source: drafted, edited, typed
    retracted_answers: tuple[Count, ...] = ()  # by platform


async def read_telemetry(database: Database) -> Telemetry:
    """Everything in one read-only transaction, so the figures agree with each other."""
    async with database.snapshot(doing="reading the figures for /metrics") as session:
        conversations = await _conversation_counts(session)
        ratings = await _counts(
            session, ConversationRow.rating, where=ConversationRow.rating.is_not(None)
        )
        messages = await _counts(session, MessageRow.author, MessageRow.platform)
        decisions = await _decision_counts(session)
        handoffs = await _handoff_counts(session)
        failed = await _counts(
            session, MessageRow.platform, where=MessageRow.delivery == Delivery.FAILED.value
        )
        retracted = await _counts(
            session, MessageRow.platform, where=MessageRow.delivery == Delivery.RETRACTED.value
        )
        waiting, claimed = await _open_handoffs(session)
        claims, replies, closes = await _durations(session)
        agent_replies = await _agent_reply_counts(session)
    return Telemetry(
        conversations=conversations,
        ratings=ratings,
        messages=messages,
        decisions=decisions,
        handoffs=handoffs,
        failed_deliveries=failed,
        waiting=waiting,
        claimed=claimed,
        time_to_claim=claims,
        first_response=replies,
        resolution=closes,
        agent_replies=agent_replies,
        retracted_answers=retracted,
    )


async def _counts(
    session: AsyncConnection,
    *columns: InstrumentedAttribute[Any],
    where: ColumnElement[bool] | None = None,
) -> tuple[Count, ...]:
    query = select(*columns, func.count()).group_by(*columns)
    if where is not None:
        query = query.where(where)
    rows = await session.execute(query)
    return tuple(Count(labels=tuple(str(v) for v in row[:-1]), value=int(row[-1])) for row in rows)


async def _conversation_counts(session: AsyncConnection) -> tuple[Count, ...]:
    has_handoff = exists().where(HandoffRow.conversation_id == ConversationRow.id)
    # COUNT skips NULLs, and a CASE without ELSE is NULL: a portable "COUNT ... FILTER".
    total, handed_off = (
        await session.execute(
            select(func.count(), func.count(case((has_handoff, 1)))).select_from(ConversationRow)
        )
    ).one()
    return (
        Count(labels=("true",), value=int(handed_off)),
        Count(labels=("false",), value=int(total) - int(handed_off)),
    )


async def _decision_counts(session: AsyncConnection) -> tuple[Count, ...]:
    """The bot's turns by action and primary reason: the handoff's reason, else the first
    rule that fired (a turn that failed), else none (an answer)."""
    action = MessageRow.decision["action"].as_string()
    reason = func.coalesce(
        MessageRow.decision["handoff_reason"].as_string(),
        MessageRow.decision[("reasons", 0, "code")].as_string(),
    )
    rows = await session.execute(
        select(action, reason, func.count())
        # Only the customer's turns: a bot reply keeps a copy of its turn's decision, and an
        # agent's message keeps its delivery's details in the same column.
        .where(MessageRow.author == Author.CUSTOMER.value, MessageRow.decision.is_not(None))
        .group_by(action, reason)
    )
    return tuple(
        Count(labels=(str(a), str(r) if r else NO_REASON), value=int(n)) for a, r, n in rows
    )


async def _agent_reply_counts(session: AsyncConnection) -> tuple[Count, ...]:
    """Agents' replies by source: sent from a draft as it was, edited first, or typed (the
    platform id of a drafted reply starts with :data:`handoff.drafts.DRAFTED`)."""
    source = case(
        (MessageRow.platform_message_id.startswith(DRAFTED), "drafted"),
        (MessageRow.platform_message_id.startswith(EDITED), "edited"),
        else_="typed",
    )
    rows = await session.execute(
        select(source, func.count()).where(MessageRow.author == Author.AGENT.value).group_by(source)
    )
    return tuple(Count(labels=(str(s),), value=int(n)) for s, n in rows)


async def _handoff_counts(session: AsyncConnection) -> tuple[Count, ...]:
    route = func.coalesce(HandoffRow.agent_channel, NO_ROUTE)
    rows = await session.execute(
        select(HandoffRow.reason, route, func.count()).group_by(HandoffRow.reason, route)
    )
    return tuple(Count(labels=(str(r), str(c)), value=int(n)) for r, c, n in rows)


async def _open_handoffs(session: AsyncConnection) -> tuple[int, int]:
    rows = await session.execute(
        select(HandoffRow.agent_id.is_not(None), func.count())
        .where(HandoffRow.outcome.is_(None))
        .group_by(HandoffRow.agent_id.is_not(None))
    )
    found = {bool(owned): int(n) for owned, n in rows}
    return found.get(False, 0), found.get(True, 0)


async def _durations(
    session: AsyncConnection,
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Time to claim, first response and resolution (closed by an agent) of every handoff
    that has one."""
    rows = (
        await session.execute(
            select(
                HandoffRow.requested_at,
                HandoffRow.claimed_at,
                first_reply_at(),
                HandoffRow.closed_at,
            )
        )
    ).all()
    return (
        _seconds([(requested, claimed) for requested, claimed, _, _ in rows]),
        _seconds([(requested, replied) for requested, _, replied, _ in rows]),
        _seconds([(requested, closed) for requested, _, _, closed in rows]),
    )


def _seconds(spans: Sequence[tuple[datetime, datetime | None]]) -> tuple[float, ...]:
    return tuple((end - start).total_seconds() for start, end in spans if end is not None)
