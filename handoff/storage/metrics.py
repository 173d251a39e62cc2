"""Support metrics over the stored history: escalation, response times, resolution, CSAT.

Every figure is about the conversations *opened* in a window ``[since, until)``, and about
the handoffs and ratings of those conversations, whenever they happened. Counting one
cohort keeps the figures consistent with each other (every handoff counted belongs to a
conversation counted), at the price of recent conversations still being in progress.

Counts are aggregated in SQL. Durations are differences of two timestamps, which SQLite
and PostgreSQL compute in incompatible ways, so SQL returns the timestamp pairs and Python
takes the differences and the percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.clock import as_utc
from handoff.errors import InvalidValue
from handoff.model import Author
from handoff.records import HandoffOutcome
from handoff.storage.database import Database
from handoff.storage.tables import ConversationRow, HandoffRow, MessageRow

MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)
RATINGS = range(1, 6)
SATISFIED = frozenset({4, 5})  # the usual CSAT convention: the share of 4s and 5s


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """How many handoffs gave one reason code."""

    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """From a handoff's request to the first agent message in its conversation.

    ``answered`` handoffs have a time; ``waiting`` ones are open with no agent message yet;
    ``unanswered`` ones ended (closed or returned to the bot) without any agent message.
    """

    answered: int
    median_seconds: float | None
    p90_seconds: float | None
    waiting: int
    unanswered: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """From a handoff's request to an agent closing it (returned handoffs are not counted)."""

    closed: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True, slots=True)
class Csat:
    """The customers' 1-5 ratings of their conversations."""

    ratings: int
    mean: float | None
    satisfied_rate: float | None  # the share of ratings that are 4 or 5
    distribution: Mapping[int, int]  # every score 1..5 -> how many gave it (0 included)


@dataclass(frozen=True, slots=True)
class SupportMetrics:
    """The support figures for the conversations opened in ``[since, until)``.

    Rates are fractions (0.25 is 25%) and None when there is nothing to divide by; so are
    times and the mean rating when nothing was measured.
    """

    since: datetime
    until: datetime
    conversations: int
    handed_off: int  # conversations with at least one handoff
    escalation_rate: float | None  # handed_off / conversations
    deflection_rate: float | None  # the bot alone: (conversations - handed_off) / conversations
    handoffs: int  # a conversation returned to the bot can be handed off again
    reasons: tuple[ReasonCount, ...]  # most frequent first, ties by name
    first_response: FirstResponse
    resolution: Resolution
    returned_to_bot: int
    csat: Csat


@dataclass(frozen=True, slots=True)
class _HandoffTimes:
    requested_at: datetime
    outcome: HandoffOutcome | None
    closed_at: datetime | None
    first_reply_at: datetime | None


async def support_metrics(
    database: Database, *, since: datetime, until: datetime
) -> SupportMetrics:
    """The support figures for the conversations opened from ``since`` until before ``until``.

    Both must be timezone-aware; raises :class:`InvalidValue` if they are not, or if
    ``since`` is after ``until``.
    """
    since = as_utc(since, field="since")
    until = as_utc(until, field="until")
    if since > until:
        raise InvalidValue(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    window = and_(ConversationRow.opened_at >= since, ConversationRow.opened_at < until)
    async with database.snapshot(doing="computing support metrics") as session:
        conversations, handed_off = await _conversation_counts(session, window)
        reasons = await _reason_counts(session, window)
        times = await _handoff_times(session, window)
        distribution = await _rating_distribution(session, window)
    return SupportMetrics(
        since=since,
        until=until,
        conversations=conversations,
        handed_off=handed_off,
        escalation_rate=_rate(handed_off, conversations),
        deflection_rate=_rate(conversations - handed_off, conversations),
        handoffs=len(times),
        reasons=reasons,
        first_response=_first_response(times),
        resolution=_resolution(times),
        returned_to_bot=sum(1 for t in times if t.outcome is HandoffOutcome.RETURNED),
        csat=_csat(distribution),
    )


# --- SQL ------------------------------------------------------------------------------------


async def _conversation_counts(
    session: AsyncConnection, window: ColumnElement[bool]
) -> tuple[int, int]:
    """How many conversations opened in the window, and how many of them were handed off."""
    has_handoff = exists().where(HandoffRow.conversation_id == ConversationRow.id)
    # COUNT skips NULLs, and a CASE without ELSE is NULL: a portable "COUNT ... FILTER".
    row = (
        await session.execute(
            select(func.count(), func.count(case((has_handoff, 1)))).where(window)
        )
    ).one()
    return int(row[0]), int(row[1])


async def _reason_counts(
    session: AsyncConnection, window: ColumnElement[bool]
) -> tuple[ReasonCount, ...]:
    count = func.count().label("count")
    rows = await session.execute(
        select(HandoffRow.reason, count)
        .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
        .where(window)
        .group_by(HandoffRow.reason)
        .order_by(count.desc(), HandoffRow.reason)
    )
    return tuple(ReasonCount(reason=reason, count=int(n)) for reason, n in rows)


def first_reply_at() -> ScalarSelect[datetime]:
    """A handoff's first agent message, correlated with :class:`HandoffRow`.

    Only agent messages while the handoff was open answer it: one written after it ended
    was never sent, and a later handoff of the same conversation has replies of its own.
    """
    ended_at = func.coalesce(HandoffRow.closed_at, HandoffRow.returned_at)
    return (
        select(func.min(MessageRow.created_at))
        .where(
            MessageRow.conversation_id == HandoffRow.conversation_id,
            MessageRow.author == Author.AGENT.value,
            MessageRow.created_at >= HandoffRow.requested_at,
            or_(HandoffRow.outcome.is_(None), MessageRow.created_at <= ended_at),
        )
        .correlate(HandoffRow)
        .scalar_subquery()
    )


async def _handoff_times(
    session: AsyncConnection, window: ColumnElement[bool]
) -> list[_HandoffTimes]:
    """Each handoff's request, outcome, close and first agent message."""
    rows = await session.execute(
        select(HandoffRow.requested_at, HandoffRow.outcome, HandoffRow.closed_at, first_reply_at())
        .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
        .where(window)
    )
    return [
        _HandoffTimes(
            requested_at=requested_at,
            outcome=None if outcome is None else HandoffOutcome(outcome),
            closed_at=closed_at,
            first_reply_at=reply_at,
        )
        for requested_at, outcome, closed_at, reply_at in rows
    ]


async def _rating_distribution(
    session: AsyncConnection, window: ColumnElement[bool]
) -> dict[int, int]:
    rows = await session.execute(
        select(ConversationRow.rating, func.count())
        .where(window, ConversationRow.rating.is_not(None))
        .group_by(ConversationRow.rating)
    )
    found = {rating: int(n) for rating, n in rows}
    return {score: found.get(score, 0) for score in RATINGS}


# --- arithmetic -----------------------------------------------------------------------------


def _first_response(times: Sequence[_HandoffTimes]) -> FirstResponse:
    waits = [t.first_reply_at - t.requested_at for t in times if t.first_reply_at is not None]
    silent = [t for t in times if t.first_reply_at is None]
    return FirstResponse(
        answered=len(waits),
        median_seconds=percentile(waits, MEDIAN),
        p90_seconds=percentile(waits, P90),
        waiting=sum(1 for t in silent if t.outcome is None),
        unanswered=sum(1 for t in silent if t.outcome is not None),
    )


def _resolution(times: Sequence[_HandoffTimes]) -> Resolution:
    spans = [
        t.closed_at - t.requested_at
        for t in times
        if t.outcome is HandoffOutcome.CLOSED and t.closed_at is not None
    ]
    return Resolution(
        closed=len(spans),
        median_seconds=percentile(spans, MEDIAN),
        p90_seconds=percentile(spans, P90),
    )


def _csat(distribution: Mapping[int, int]) -> Csat:
    ratings = sum(distribution.values())
    total = sum(score * n for score, n in distribution.items())
    satisfied = sum(n for score, n in distribution.items() if score in SATISFIED)
    return Csat(
        ratings=ratings,
        mean=None if ratings == 0 else total / ratings,
        satisfied_rate=_rate(satisfied, ratings),
        distribution=dict(distribution),
    )


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percentile(durations: Sequence[timedelta], fraction: Fraction) -> float | None:
    """The ``fraction`` quantile in seconds, interpolated linearly between neighbours.

    The same definition as PostgreSQL's ``percentile_cont`` (the median of an even count
    is the mean of the middle two). Computed exactly in microseconds, so the result does
    not depend on float rounding.
    """
    if not durations:
        return None
    ordered = sorted(d // timedelta(microseconds=1) for d in durations)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    exact = ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
    return round(exact) / 1_000_000
