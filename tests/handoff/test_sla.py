"""The SLA ladder, pure: which step is due for every kind of handoff and time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from handoff.model import Agent, ConversationKey, DeskThread
from handoff.sla import (
    DueStep,
    SlaSettings,
    SlaStep,
    SlaSubject,
    due_steps,
    idle_since,
    wall_seconds,
    whole_minutes,
    with_skipped,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SETTINGS = SlaSettings(
    reping_after=120, escalate_after=600, claimed_idle_after=300, wait_update_after=1e9
)
ALICE = Agent("U0AGENT1", "Alice")
WAITING = SlaSubject(
    handoff_id=7,
    key=ConversationKey("telegram", "1"),
    thread=DeskThread("C0AGENTS", "1.0"),
    requested_at=T0,
    owner=None,
    claimed_at=None,
    last_agent_reply_at=None,
    repinged_at=None,
    escalated_at=None,
    idle_pinged_at=None,
)
CLAIMED = replace(WAITING, owner=ALICE, claimed_at=T0 + timedelta(seconds=60))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def steps(subject: SlaSubject, seconds: float) -> list[SlaStep]:
    return [due.step for due in due_steps(subject, now=at(seconds), settings=SETTINGS)]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, []), (119, []), (120, [SlaStep.REPING]), (599, [SlaStep.REPING])],
)
def test_an_unclaimed_handoff_is_repinged_once_its_time_is_up(
    seconds: float, expected: list[SlaStep]
) -> None:
    assert steps(WAITING, seconds) == expected


def test_a_repinged_handoff_is_not_repinged_again_but_escalated_later() -> None:
    repinged = replace(WAITING, repinged_at=at(121))
    assert steps(repinged, 300) == []
    assert steps(repinged, 600) == [SlaStep.ESCALATE]


def test_escalation_alone_when_both_are_due_at_once() -> None:
    # After a long outage: one post, the stronger one.
    assert steps(WAITING, 5_000) == [SlaStep.ESCALATE]


def test_an_escalated_handoff_has_no_more_steps_while_unclaimed() -> None:
    assert steps(replace(WAITING, repinged_at=at(121), escalated_at=at(601)), 10_000) == []


def test_the_due_step_carries_its_anchor_and_the_wait() -> None:
    assert due_steps(WAITING, now=at(130), settings=SETTINGS) == (
        DueStep(SlaStep.REPING, T0, 130.0),
    )


def test_a_claimed_handoff_pings_its_owner_after_a_quiet_stretch() -> None:
    assert steps(CLAIMED, 60 + 299) == []
    assert steps(CLAIMED, 60 + 300) == [SlaStep.IDLE_REPING]


def test_a_reply_starts_the_owners_clock_again() -> None:
    replied = replace(CLAIMED, last_agent_reply_at=at(200))
    assert steps(replied, 400) == []
    assert steps(replied, 500) == [SlaStep.IDLE_REPING]


def test_the_owner_is_pinged_once_per_quiet_stretch() -> None:
    pinged = replace(CLAIMED, idle_pinged_at=at(360))
    assert steps(pinged, 5_000) == []
    # A reply after the ping: a new stretch, a new ping when it is long enough.
    replied = replace(pinged, last_agent_reply_at=at(400))
    assert steps(replied, 699) == []
    assert steps(replied, 700) == [SlaStep.IDLE_REPING]


def test_a_claimed_handoff_is_never_repinged_nor_escalated() -> None:
    assert SlaStep.ESCALATE not in steps(replace(CLAIMED, idle_pinged_at=at(10_000)), 10_000)


def test_idle_since_is_the_later_of_the_claim_and_the_last_reply() -> None:
    assert idle_since(CLAIMED) == at(60)
    assert idle_since(replace(CLAIMED, last_agent_reply_at=at(90))) == at(90)
    assert idle_since(replace(CLAIMED, claimed_at=None)) == T0


def test_paused_clocks_count_only_what_elapsed_says() -> None:
    def half(start: datetime, end: datetime) -> float:
        return wall_seconds(start, end) / 2

    assert due_steps(WAITING, now=at(200), settings=SETTINGS, elapsed=half) == ()
    assert [d.step for d in due_steps(WAITING, now=at(240), settings=SETTINGS, elapsed=half)] == [
        SlaStep.REPING
    ]


def test_wall_seconds_never_runs_backwards() -> None:
    assert wall_seconds(at(10), at(0)) == 0.0


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 1), (59, 1), (120, 2), (601, 10)])
def test_waits_read_in_whole_minutes(seconds: float, minutes: int) -> None:
    assert whole_minutes(seconds) == minutes


@pytest.mark.parametrize("name", ["reping_after", "escalate_after", "claimed_idle_after"])
def test_settings_refuse_a_time_that_is_not_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SlaSettings(**{name: 0})


def test_the_customer_gets_one_wait_update_beside_the_agents_steps() -> None:
    settings = replace(SETTINGS, wait_update_after=300)
    assert [d.step for d in due_steps(WAITING, now=at(299), settings=settings)] == [SlaStep.REPING]
    assert [d.step for d in due_steps(WAITING, now=at(300), settings=settings)] == [
        SlaStep.REPING,
        SlaStep.WAIT_UPDATE,
    ]
    escalated = replace(WAITING, repinged_at=at(121), escalated_at=at(601))
    assert [d.step for d in due_steps(escalated, now=at(700), settings=settings)] == [
        SlaStep.WAIT_UPDATE
    ]
    updated = replace(escalated, wait_updated_at=at(301))
    assert due_steps(updated, now=at(5_000), settings=settings) == ()


def test_a_claimed_customer_gets_no_wait_update() -> None:
    assert SlaStep.WAIT_UPDATE not in steps(CLAIMED, 10_000)


def test_skipped_time_adds_to_what_elapsed() -> None:
    def ten(start: datetime, end: datetime) -> float:
        return 10.0

    assert with_skipped(wall_seconds, None) is wall_seconds
    assert with_skipped(wall_seconds, ten)(at(0), at(5)) == 15.0


def test_a_released_handoff_is_unclaimed_again_its_clocks_from_the_release() -> None:
    # Re-pinged and escalated before Alice claimed it; she gave it back at 900 s.
    released = replace(WAITING, repinged_at=at(120), escalated_at=at(600), released_at=at(900))
    assert steps(released, 900) == []  # not escalated at once for the time before
    assert steps(released, 1019) == []
    (reping,) = due_steps(released, now=at(1020), settings=SETTINGS)
    assert (reping.step, reping.anchor, reping.waited) == (SlaStep.REPING, at(900), 120)
    pinged_again = replace(released, repinged_at=at(1020))
    assert steps(pinged_again, 1400) == []
    assert steps(pinged_again, 1500) == [SlaStep.ESCALATE]
    assert steps(replace(pinged_again, escalated_at=at(1500)), 9000) == []
