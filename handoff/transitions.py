"""The handoff state machine: one table of (state, event, actor) -> (next state, effects).

Pure: no I/O, no clock, no asyncio. :mod:`handoff.lifecycle` reads a handoff's state, looks
up what an agent's event does here and applies the effects in order; changing what Tandem
does on an event means changing this table (and its exhaustive test).

The actor matters in one place only: Claim pressed by the agent who owns the handoff is
"you already own this", by anyone else a transfer. Who may act is not restricted: any agent
in the channel may release, return or close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import product

from handoff.agent_texts import Line
from handoff.model import CardStatus, Mode
from handoff.records import Handoff, HandoffEventKind, HandoffOutcome

State = CardStatus
"""Where a handoff stands: waiting for an agent, claimed, returned to the bot, or closed."""
FINISHED = frozenset({State.RETURNED, State.CLOSED})


class Event(StrEnum):
    """What an agent did: one of the commands (buttons, ``/tandem``) or a reply."""

    CLAIM = "claim"
    RELEASE = "release"
    RETURN = "return"
    CLOSE = "close"
    STATUS = "status"
    REPLY = "reply"  # a message in the thread, for the customer


class Actor(StrEnum):
    """The acting agent, as the handoff sees them."""

    OWNER = "owner"  # owns the handoff now (only a claimed one has an owner)
    OTHER = "other"


# --- effects: what a transition does, as values --------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """Store the change and its audit entry (who, when): claim, transfer, release, return
    or close. A claim or transfer that loses a race ends the transition (see
    :mod:`handoff.lifecycle`)."""

    kind: HandoffEventKind


@dataclass(frozen=True, slots=True)
class SetMode:
    """The conversation's mode while the handoff goes on; stored only if it changes."""

    mode: Mode


@dataclass(frozen=True, slots=True)
class LeaveHandoff:
    """The conversation leaves the handoff: back to the bot with a clean slate (the
    failed-turn count starts again), or closed."""

    mode: Mode


@dataclass(frozen=True, slots=True)
class SayToCustomer:
    """A message of ``responses.yml`` (``system.<key>``), with the rating buttons if asked."""

    key: str
    ask_rating: bool = False


@dataclass(frozen=True, slots=True)
class PostNote:
    """A line in the handoff's thread, for every agent to see."""

    line: Line


@dataclass(frozen=True, slots=True)
class TellAgent:
    """A line for the acting agent only. An answer (``best_effort`` False) that cannot be
    delivered fails the event, which the intake then retries; a hint is logged and lost."""

    line: Line
    best_effort: bool = False


@dataclass(frozen=True, slots=True)
class RefreshCard:
    """Draw the card again in the handoff's new state."""


@dataclass(frozen=True, slots=True)
class FlushOutbox:
    """Send what is pending to the customer, the agent's reply behind any earlier one."""


Effect = (
    Record
    | SetMode
    | LeaveHandoff
    | SayToCustomer
    | PostNote
    | TellAgent
    | RefreshCard
    | FlushOutbox
)


@dataclass(frozen=True, slots=True)
class Transition:
    next: State
    effects: tuple[Effect, ...]


# --- the table --------------------------------------------------------------------------------


def _change(kind: HandoffEventKind, next_: State, *between: Effect, note: Line) -> Transition:
    """A change every agent sees: recorded, noted in the thread, the card redrawn."""
    return Transition(next_, (Record(kind), *between, PostNote(note), RefreshCard()))


_CLAIM = _change(
    HandoffEventKind.CLAIMED, State.CLAIMED, SetMode(Mode.HUMAN), note=Line.NOTE_CLAIMED
)
_TRANSFER = _change(
    HandoffEventKind.TRANSFERRED, State.CLAIMED, SetMode(Mode.HUMAN), note=Line.NOTE_TRANSFERRED
)
_RELEASE = _change(
    HandoffEventKind.RELEASED, State.WAITING, SetMode(Mode.WAITING), note=Line.NOTE_RELEASED
)
_RETURN = _change(
    HandoffEventKind.RETURNED,
    State.RETURNED,
    LeaveHandoff(Mode.BOT),
    SayToCustomer("returned_to_bot"),
    note=Line.NOTE_RETURNED,
)
_CLOSE = _change(
    HandoffEventKind.CLOSED,
    State.CLOSED,
    LeaveHandoff(Mode.CLOSED),
    SayToCustomer("closed", ask_rating=True),
    note=Line.NOTE_CLOSED,
)
# The first agent to reply to an unclaimed handoff owns it.
_FIRST_REPLY = Transition(State.CLAIMED, (*_CLAIM.effects, FlushOutbox()))

STATUS_LINES: Mapping[State, Line] = {
    State.WAITING: Line.STATUS_WAITING,
    State.CLAIMED: Line.STATUS_CLAIMED,
    State.RETURNED: Line.STATUS_RETURNED,
    State.CLOSED: Line.STATUS_CLOSED,
}


def _stay(state: State, *effects: Effect) -> Transition:
    return Transition(state, effects)


def _open(state: State, actor: Actor) -> dict[Event, Transition]:
    if state is State.WAITING:
        claim, reply = _CLAIM, _FIRST_REPLY
        release = _stay(state, TellAgent(Line.NOBODY_OWNS, best_effort=True))
    else:  # claimed: by its owner, Claim changes nothing; by anyone else, ownership moves
        claim = (
            _stay(state, TellAgent(Line.ALREADY_YOURS, best_effort=True))
            if actor is Actor.OWNER
            else _TRANSFER
        )
        release, reply = _RELEASE, _stay(state, FlushOutbox())
    return {
        Event.CLAIM: claim,
        Event.RELEASE: release,
        Event.RETURN: _RETURN,
        Event.CLOSE: _CLOSE,
        Event.STATUS: _stay(state, TellAgent(STATUS_LINES[state])),
        Event.REPLY: reply,
    }


def _finished(state: State) -> dict[Event, Transition]:
    refused = _stay(state, TellAgent(Line.NOTHING_TO_DO))
    return {
        Event.CLAIM: refused,
        Event.RELEASE: refused,
        Event.RETURN: refused,
        Event.CLOSE: refused,
        Event.STATUS: _stay(state, TellAgent(STATUS_LINES[state])),
        Event.REPLY: _stay(state, TellAgent(Line.NOT_SENT)),
    }


def _rows() -> dict[tuple[State, Event, Actor], Transition]:
    rows: dict[tuple[State, Event, Actor], Transition] = {}
    for state, actor in product(State, Actor):
        if actor is Actor.OWNER and state is not State.CLAIMED:
            continue  # only a claimed handoff has an owner
        events = _finished(state) if state in FINISHED else _open(state, actor)
        rows.update({(state, event, actor): t for event, t in events.items()})
    return rows


TABLE: Mapping[tuple[State, Event, Actor], Transition] = _rows()


# --- reading a handoff --------------------------------------------------------------------


def state_of(handoff: Handoff) -> State:
    if handoff.outcome is HandoffOutcome.CLOSED:
        return State.CLOSED
    if handoff.outcome is HandoffOutcome.RETURNED:
        return State.RETURNED
    return State.CLAIMED if handoff.agent_id else State.WAITING


def actor_of(handoff: Handoff, agent_id: str) -> Actor:
    owns = state_of(handoff) is State.CLAIMED and handoff.agent_id == agent_id
    return Actor.OWNER if owns else Actor.OTHER


def transition(handoff: Handoff, event: Event, agent_id: str) -> Transition:
    """What ``event`` by agent ``agent_id`` does to ``handoff``."""
    return TABLE[(state_of(handoff), event, actor_of(handoff, agent_id))]
