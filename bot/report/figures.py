"""The report's figures from the stored facts: pure arithmetic, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handoff.storage.metrics import MEDIAN, P90, SATISFIED, percentile
from handoff.storage.report_queries import ConversationFacts, HandoffFacts, ReportFacts

BOT_ONLY = "bot only"
HANDED_OFF = "handed off"


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """From ``agents.sla``: re-ping after this many seconds unclaimed, escalate after that."""

    reping_after: float
    escalate_after: float


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    bot_only: int  # conversations opened that day the bot handled alone
    handed_off: int  # ... that went to a person
    past_reping: int  # handoffs requested that day claimed later than reping_after (or never)
    past_escalation: int  # ... later than escalate_after

    @property
    def deflection(self) -> float | None:
        total = self.bot_only + self.handed_off
        return None if total == 0 else self.bot_only / total


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations in seconds, with their median and 90th percentile."""

    seconds: tuple[float, ...]
    p50: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class CsatGroup:
    label: str
    ratings: int
    mean: float | None
    satisfied: float | None  # the share of 4s and 5s


@dataclass(frozen=True, slots=True)
class ReportFigures:
    since: datetime
    until: datetime
    targets: SlaTargets
    days: tuple[Day, ...]
    reasons: tuple[tuple[str, int], ...]  # most frequent first
    time_to_claim: Spread
    first_response: Spread
    resolution: Spread
    csat_by_path: tuple[CsatGroup, ...]  # the bot alone, then handed off
    csat_by_reason: tuple[CsatGroup, ...]

    @property
    def conversations(self) -> int:
        return sum(d.bot_only + d.handed_off for d in self.days)

    @property
    def handed_off(self) -> int:
        return sum(d.handed_off for d in self.days)

    @property
    def handoffs(self) -> int:
        return sum(n for _, n in self.reasons)


def report_figures(facts: ReportFacts, targets: SlaTargets, *, now: datetime) -> ReportFigures:
    """``now`` ends the wait of a handoff still unclaimed (the report's time, or the end of
    the period if that is earlier)."""
    end = min(now, facts.until)
    reasons = Counter(h.reason for h in facts.handoffs)
    return ReportFigures(
        since=facts.since,
        until=facts.until,
        targets=targets,
        days=_days(facts, targets, end),
        reasons=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        time_to_claim=_spread(
            h.claimed_at - h.requested_at for h in facts.handoffs if h.claimed_at
        ),
        first_response=_spread(
            h.first_reply_at - h.requested_at for h in facts.handoffs if h.first_reply_at
        ),
        resolution=_spread(h.closed_at - h.requested_at for h in facts.handoffs if h.closed_at),
        csat_by_path=(
            _csat(BOT_ONLY, [c for c in facts.conversations if c.reason is None]),
            _csat(HANDED_OFF, [c for c in facts.conversations if c.reason is not None]),
        ),
        csat_by_reason=tuple(
            _csat(reason, [c for c in facts.conversations if c.reason == reason])
            for reason, _ in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ),
    )


def _days(facts: ReportFacts, targets: SlaTargets, end: datetime) -> tuple[Day, ...]:
    first, last = facts.since.date(), (facts.until - timedelta(microseconds=1)).date()
    count = (last - first).days + 1
    opened: dict[date, list[ConversationFacts]] = {}
    for conversation in facts.conversations:
        opened.setdefault(conversation.opened_at.date(), []).append(conversation)
    requested: dict[date, list[HandoffFacts]] = {}
    for handoff in facts.handoffs:
        requested.setdefault(handoff.requested_at.date(), []).append(handoff)
    days = []
    for offset in range(max(count, 0)):
        day = first + timedelta(days=offset)
        conversations = opened.get(day, [])
        waits = [_claim_wait(h, end) for h in requested.get(day, [])]
        days.append(
            Day(
                day=day,
                bot_only=sum(1 for c in conversations if c.reason is None),
                handed_off=sum(1 for c in conversations if c.reason is not None),
                past_reping=sum(1 for w in waits if w > targets.reping_after),
                past_escalation=sum(1 for w in waits if w > targets.escalate_after),
            )
        )
    return tuple(days)


def _claim_wait(handoff: HandoffFacts, end: datetime) -> float:
    """Seconds until the claim; one never claimed waited until it ended, or until ``end``."""
    claimed = handoff.claimed_at or handoff.ended_at or max(end, handoff.requested_at)
    return (claimed - handoff.requested_at).total_seconds()


def _spread(durations: Iterable[timedelta]) -> Spread:
    spans = list(durations)
    return Spread(
        seconds=tuple(d.total_seconds() for d in spans),
        p50=percentile(spans, MEDIAN),
        p90=percentile(spans, P90),
    )


def _csat(label: str, conversations: Sequence[ConversationFacts]) -> CsatGroup:
    ratings = [c.rating for c in conversations if c.rating is not None]
    return CsatGroup(
        label=label,
        ratings=len(ratings),
        mean=sum(ratings) / len(ratings) if ratings else None,
        satisfied=sum(r in SATISFIED for r in ratings) / len(ratings) if ratings else None,
    )
