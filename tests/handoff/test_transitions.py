"""The handoff state machine's table, every (state, event, actor) of it, and what holds
across it. Pure: no storage, no platform, no event loop."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime
from itertools import product

import pytest

from handoff.agent_texts import Line
from handoff.model import Mode
from handoff.records import Handoff, HandoffEventKind, HandoffOutcome
from handoff.transitions import (
    FINISHED,
    STATUS_LINES,
    TABLE,
    Actor,
    Effect,
    Event,
    FlushOutbox,
    LeaveHandoff,
    PostNote,
    Record,
    RefreshCard,
    SayToCustomer,
    SetMode,
    State,
    TellAgent,
    Transition,
    actor_of,
    state_of,
    transition,
)

W, C, R, X = State.WAITING, State.CLAIMED, State.RETURNED, State.CLOSED
OWNER, OTHER = Actor.OWNER, Actor.OTHER

CLAIM = (
    Record(HandoffEventKind.CLAIMED),
    SetMode(Mode.HUMAN),
    PostNote(Line.NOTE_CLAIMED),
    RefreshCard(),
)
TRANSFER = (
    Record(HandoffEventKind.TRANSFERRED),
    SetMode(Mode.HUMAN),
    PostNote(Line.NOTE_TRANSFERRED),
    RefreshCard(),
)
RELEASE = (
    Record(HandoffEventKind.RELEASED),
    SetMode(Mode.WAITING),
    PostNote(Line.NOTE_RELEASED),
    RefreshCard(),
)
RETURN = (
    Record(HandoffEventKind.RETURNED),
    LeaveHandoff(Mode.BOT),
    SayToCustomer("returned_to_bot"),
    PostNote(Line.NOTE_RETURNED),
    RefreshCard(),
)
CLOSE = (
    Record(HandoffEventKind.CLOSED),
    LeaveHandoff(Mode.CLOSED),
    SayToCustomer("closed", ask_rating=True),
    PostNote(Line.NOTE_CLOSED),
    RefreshCard(),
)
ALREADY_YOURS = (TellAgent(Line.ALREADY_YOURS, best_effort=True),)
NOBODY_OWNS = (TellAgent(Line.NOBODY_OWNS, best_effort=True),)
NOTHING_TO_DO = (TellAgent(Line.NOTHING_TO_DO),)
NOT_SENT = (TellAgent(Line.NOT_SENT),)
RELAY = (FlushOutbox(),)


def status(state: State) -> tuple[Effect, ...]:
    return (TellAgent(STATUS_LINES[state]),)


# state, event, actor -> next state, effects: the whole table, written out.
EXPECTED: dict[tuple[State, Event, Actor], tuple[State, tuple[Effect, ...]]] = {
    # Waiting: nobody owns it, so every agent is "other".
    (W, Event.CLAIM, OTHER): (C, CLAIM),
    (W, Event.RELEASE, OTHER): (W, NOBODY_OWNS),
    (W, Event.RETURN, OTHER): (R, RETURN),
    (W, Event.CLOSE, OTHER): (X, CLOSE),
    (W, Event.STATUS, OTHER): (W, status(W)),
    (W, Event.REPLY, OTHER): (C, CLAIM + RELAY),  # the first reply claims it
    # Claimed, by the agent who owns it.
    (C, Event.CLAIM, OWNER): (C, ALREADY_YOURS),
    (C, Event.RELEASE, OWNER): (W, RELEASE),
    (C, Event.RETURN, OWNER): (R, RETURN),
    (C, Event.CLOSE, OWNER): (X, CLOSE),
    (C, Event.STATUS, OWNER): (C, status(C)),
    (C, Event.REPLY, OWNER): (C, RELAY),
    # Claimed, by another agent: Claim transfers; a reply is relayed, ownership stays.
    (C, Event.CLAIM, OTHER): (C, TRANSFER),
    (C, Event.RELEASE, OTHER): (W, RELEASE),
    (C, Event.RETURN, OTHER): (R, RETURN),
    (C, Event.CLOSE, OTHER): (X, CLOSE),
    (C, Event.STATUS, OTHER): (C, status(C)),
    (C, Event.REPLY, OTHER): (C, RELAY),
    # Returned to the bot, and closed: only the status; everything else is refused.
    (R, Event.CLAIM, OTHER): (R, NOTHING_TO_DO),
    (R, Event.RELEASE, OTHER): (R, NOTHING_TO_DO),
    (R, Event.RETURN, OTHER): (R, NOTHING_TO_DO),
    (R, Event.CLOSE, OTHER): (R, NOTHING_TO_DO),
    (R, Event.STATUS, OTHER): (R, status(R)),
    (R, Event.REPLY, OTHER): (R, NOT_SENT),
    (X, Event.CLAIM, OTHER): (X, NOTHING_TO_DO),
    (X, Event.RELEASE, OTHER): (X, NOTHING_TO_DO),
    (X, Event.RETURN, OTHER): (X, NOTHING_TO_DO),
    (X, Event.CLOSE, OTHER): (X, NOTHING_TO_DO),
    (X, Event.STATUS, OTHER): (X, status(X)),
    (X, Event.REPLY, OTHER): (X, NOT_SENT),
}
AFTER = {
    HandoffEventKind.CLAIMED: C,
    HandoffEventKind.TRANSFERRED: C,
    HandoffEventKind.RELEASED: W,
    HandoffEventKind.RETURNED: R,
    HandoffEventKind.CLOSED: X,
}


def test_the_table_has_a_row_for_every_state_event_and_possible_actor() -> None:
    possible = {
        (state, event, actor)
        for state, event, actor in product(State, Event, Actor)
        if actor is OTHER or state is C  # only a claimed handoff has an owner
    }
    assert set(TABLE) == possible
    assert set(EXPECTED) == possible
    assert len(TABLE) == 4 * 6 + 6


@pytest.mark.parametrize(("state", "event", "actor"), list(EXPECTED))
def test_each_row(state: State, event: Event, actor: Actor) -> None:
    next_state, effects = EXPECTED[(state, event, actor)]
    assert TABLE[(state, event, actor)] == Transition(next_state, effects)


@pytest.mark.parametrize("key", list(TABLE))
def test_the_next_state_is_what_the_recorded_change_makes_it(
    key: tuple[State, Event, Actor],
) -> None:
    row = TABLE[key]
    records = [e for e in row.effects if isinstance(e, Record)]
    assert len(records) <= 1
    if records:
        assert row.effects[0] == records[0]  # recorded first: nothing follows a lost race
        assert row.next is AFTER[records[0].kind]
        # Every agent sees the change: a note, then the card redrawn (before any relay).
        *_, note, card = [e for e in row.effects if not isinstance(e, FlushOutbox)]
        assert isinstance(note, PostNote)
        assert card == RefreshCard()
    else:
        assert row.next is key[0]  # nothing recorded, nothing changed
        assert not any(isinstance(e, SetMode | LeaveHandoff | SayToCustomer) for e in row.effects)


@pytest.mark.parametrize("key", list(TABLE))
def test_an_answer_that_fails_the_event_comes_only_where_nothing_changed(
    key: tuple[State, Event, Actor],
) -> None:
    # The intake retries an event whose answer could not be delivered: harmless only if the
    # event changed nothing.
    row = TABLE[key]
    if any(isinstance(e, TellAgent) and not e.best_effort for e in row.effects):
        assert row.effects == (row.effects[0],)
        assert row.next is key[0]


def test_a_finished_handoff_never_changes() -> None:
    for (state, _, _), row in TABLE.items():
        if state in FINISHED:
            assert row.next is state
            assert not any(isinstance(e, Record | FlushOutbox) for e in row.effects)


def test_only_a_reply_to_an_open_handoff_is_sent_on() -> None:
    relaying = {key for key, row in TABLE.items() if FlushOutbox() in row.effects}
    assert relaying == {
        (state, Event.REPLY, actor) for state, _, actor in TABLE if state not in FINISHED
    }


def handoff(*, agent_id: str | None = None, outcome: HandoffOutcome | None = None) -> Handoff:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Handoff(
        id=7,
        conversation_id=3,
        reason="person_requested",
        reason_detail={},
        requested_at=at,
        claimed_at=at if agent_id else None,
        closed_at=at if outcome is HandoffOutcome.CLOSED else None,
        returned_at=at if outcome is HandoffOutcome.RETURNED else None,
        agent_id=agent_id,
        agent_name="Alice" if agent_id else None,
        agent_channel="C1",
        agent_thread_ts="1.1",
        outcome=outcome,
    )


@pytest.mark.parametrize(
    ("record", "state"),
    [
        (handoff(), W),
        (handoff(agent_id="U1"), C),
        (handoff(agent_id="U1", outcome=HandoffOutcome.RETURNED), R),
        (handoff(agent_id="U1", outcome=HandoffOutcome.CLOSED), X),
        (handoff(outcome=HandoffOutcome.CLOSED), X),
    ],
)
def test_the_state_of_a_stored_handoff(record: Handoff, state: State) -> None:
    assert state_of(record) is state


def test_only_the_owner_of_a_claimed_handoff_is_its_owner() -> None:
    assert actor_of(handoff(agent_id="U1"), "U1") is OWNER
    assert actor_of(handoff(agent_id="U1"), "U2") is OTHER
    assert actor_of(handoff(), "U1") is OTHER
    # The last owner of a finished handoff owns nothing any more.
    assert actor_of(handoff(agent_id="U1", outcome=HandoffOutcome.CLOSED), "U1") is OTHER


def test_named_cases() -> None:
    claimed = handoff(agent_id="U1")
    closed = handoff(agent_id="U1", outcome=HandoffOutcome.CLOSED)
    assert transition(closed, Event.CLAIM, "U2").effects == NOTHING_TO_DO  # claim a closed one
    assert transition(handoff(), Event.RELEASE, "U1").effects == NOBODY_OWNS
    assert transition(claimed, Event.CLAIM, "U1").effects == ALREADY_YOURS
    assert transition(handoff(), Event.REPLY, "U1") == Transition(C, CLAIM + RELAY)
    assert transition(claimed, Event.CLAIM, "U2") == Transition(C, TRANSFER)
    assert transition(closed, Event.REPLY, "U1").effects == NOT_SENT


def test_effects_are_immutable_values() -> None:
    for row in TABLE.values():
        for effect in row.effects:
            assert dataclasses.is_dataclass(effect)
            hash(effect)
            fields = dataclasses.fields(effect)
            if fields:
                with pytest.raises(dataclasses.FrozenInstanceError):
                    setattr(effect, fields[0].name, None)


def test_the_table_needs_no_io_library() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, handoff.transitions; print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for library in ("asyncio", "yaml", "sqlalchemy", "redis", "httpx", "slack_sdk", "telegram"):
        assert library not in loaded
