"""The SLA ladder of a handoff, pure: which step is due, given the times and the settings.

An unclaimed handoff re-pings the agents after ``reping_after`` seconds and is escalated
after ``escalate_after``; a claimed one whose agent has not replied for
``claimed_idle_after`` re-pings its owner, once per quiet stretch; one released by its
agent is unclaimed again, its clocks from the release. Time is counted by an
injected function (:data:`Elapsed`), so that out of business hours the clocks pause (see
:mod:`handoff.hours`). Whether a step was taken is stored on the handoff, so the ladder
survives a restart and each step is taken once across workers (see
:mod:`handoff.sla_watch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handoff.model import Agent, ConversationKey, DeskThread

Elapsed = Callable[[datetime, datetime], float]
"""The seconds that count between two instants (all of them, or only business hours)."""


def wall_seconds(start: datetime, end: datetime) -> float:
    """Every second counts (the default: always open)."""
    return max(0.0, (end - start).total_seconds())


def with_skipped(elapsed: Elapsed, skipped: Elapsed | None) -> Elapsed:
    """``elapsed`` plus time skipped on purpose (the sandbox's ``:later``)."""
    if skipped is None:
        return elapsed
    return lambda start, end: elapsed(start, end) + skipped(start, end)


class SlaStep(StrEnum):
    REPING = "reping"  # unclaimed too long: the agents are pinged again in the thread
    ESCALATE = "escalate"  # unclaimed much too long: posted to the escalation channel
    IDLE_REPING = "idle_reping"  # claimed, but its agent has not replied: the owner is pinged
    WAIT_UPDATE = "wait_update"  # unclaimed: the customer is told, once, and offered choices


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaSettings:
    """``agents.sla`` in ``config/tandem.yml``: seconds, counted in business hours."""

    reping_after: float = 120.0
    escalate_after: float = 600.0
    claimed_idle_after: float = 300.0
    # ``conversation.wait_update_after``: the customer's one update (handoff.waiting).
    wait_update_after: float = 300.0

    def __post_init__(self) -> None:
        for name in ("reping_after", "escalate_after", "claimed_idle_after", "wait_update_after"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be more than 0 seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaSubject:
    """An open handoff with a thread, as the ladder sees it."""

    handoff_id: int
    key: ConversationKey
    thread: DeskThread
    requested_at: datetime
    owner: Agent | None
    claimed_at: datetime | None
    last_agent_reply_at: datetime | None
    repinged_at: datetime | None
    escalated_at: datetime | None
    idle_pinged_at: datetime | None
    wait_updated_at: datetime | None = None
    released_at: datetime | None = None  # when an agent last gave it back to the queue


@dataclass(frozen=True, slots=True)
class DueStep:
    """A step to take now: ``anchor`` is when its clock started, ``waited`` the seconds
    counted since."""

    step: SlaStep
    anchor: datetime
    waited: float


def due_steps(
    subject: SlaSubject,
    *,
    now: datetime,
    settings: SlaSettings,
    elapsed: Elapsed = wall_seconds,
) -> tuple[DueStep, ...]:
    """The steps due for ``subject`` at ``now``, none of them taken before."""
    if subject.owner is None:
        return _unclaimed(subject, now=now, settings=settings, elapsed=elapsed)
    return _claimed(subject, now=now, settings=settings, elapsed=elapsed)


def _unclaimed(
    subject: SlaSubject, *, now: datetime, settings: SlaSettings, elapsed: Elapsed
) -> tuple[DueStep, ...]:
    # A handoff an agent gave back is unclaimed again: its clocks start at the release, and
    # what the ladder did before the claim is done with.
    anchor = unclaimed_since(subject)
    waited = elapsed(anchor, now)
    customer: tuple[DueStep, ...] = ()
    if not _since(subject.wait_updated_at, anchor) and waited >= settings.wait_update_after:
        customer = (DueStep(SlaStep.WAIT_UPDATE, anchor, waited),)
    if _since(subject.escalated_at, anchor):
        return customer
    if waited >= settings.escalate_after:
        # Escalation says more than a re-ping; after a long outage one post is enough.
        return (DueStep(SlaStep.ESCALATE, anchor, waited), *customer)
    if not _since(subject.repinged_at, anchor) and waited >= settings.reping_after:
        return (DueStep(SlaStep.REPING, anchor, waited), *customer)
    return customer


def unclaimed_since(subject: SlaSubject) -> datetime:
    """Since when nobody has owned it: the request, or the last release after it."""
    released = subject.released_at
    if released is not None and released > subject.requested_at:
        return released
    return subject.requested_at


def _since(taken: datetime | None, anchor: datetime) -> bool:
    """A step taken at ``taken`` belongs to the stretch that started at ``anchor``."""
    return taken is not None and taken >= anchor


def _claimed(
    subject: SlaSubject, *, now: datetime, settings: SlaSettings, elapsed: Elapsed
) -> tuple[DueStep, ...]:
    anchor = idle_since(subject)
    if subject.idle_pinged_at is not None and subject.idle_pinged_at >= anchor:
        return ()  # already pinged in this quiet stretch
    waited = elapsed(anchor, now)
    if waited >= settings.claimed_idle_after:
        return (DueStep(SlaStep.IDLE_REPING, anchor, waited),)
    return ()


def idle_since(subject: SlaSubject) -> datetime:
    """Since when the owner has been quiet: the claim, or their last reply after it."""
    times = [t for t in (subject.claimed_at, subject.last_agent_reply_at) if t is not None]
    return max(times, default=subject.requested_at)


def whole_minutes(seconds: float) -> int:
    """How agents read a wait: whole minutes, at least 1."""
    return max(1, int(seconds // 60))
