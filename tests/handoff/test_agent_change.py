"""What an agent's event stores (handoff.agent_change), for every row of the state machine's
table, with and without a reply. Pure: no storage, no platform, no event loop."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.agent_change import plan_change
from handoff.model import Agent, AgentReply, Author, ConversationKey, DeskThread, Mode
from handoff.outbox_records import BUTTONS, buttons_of
from handoff.rating import parse_rating
from handoff.records import (
    UNSET,
    Delivery,
    Handoff,
    HandoffEventKind,
    HandoffOutcome,
    Platform,
)
from handoff.responses import load_responses
from handoff.transitions import TABLE, Actor, Event, Record, SayToCustomer, State
from tests.handoff.test_transitions import handoff

REPO = Path(__file__).resolve().parents[2]
RESPONSES = load_responses(REPO / "config" / "responses.yml", rng=random.Random(7))
KEY = ConversationKey("telegram", "501")
AT = datetime(2026, 1, 2, tzinfo=UTC)
ALICE = Agent("U1", "Alice")  # the owner of a claimed handoff (see test_transitions.handoff)
BOB = Agent("U2", "Bob")
OUTCOMES = {State.RETURNED: HandoffOutcome.RETURNED, State.CLOSED: HandoffOutcome.CLOSED}


def in_state(state: State) -> Handoff:
    if state is State.WAITING:
        return handoff()
    return handoff(agent_id=ALICE.user_id, outcome=OUTCOMES.get(state))


def reply_by(agent: Agent) -> AgentReply:
    return AgentReply(DeskThread("C1", "1.1"), agent, "Hello", "9.1")


@pytest.mark.parametrize(("state", "event", "actor"), list(TABLE))
@pytest.mark.parametrize("with_reply", [False, True])
def test_every_row_stores_what_its_effects_say(
    state: State, event: Event, actor: Actor, with_reply: bool
) -> None:
    before = in_state(state)
    agent = ALICE if actor is Actor.OWNER else BOB
    reply = reply_by(agent) if with_reply else None
    planned = TABLE[(state, event, actor)]
    change = plan_change(
        before, planned, key=KEY, agent=agent, reply=reply, responses=RESPONSES, at=AT
    )

    kinds = [effect.kind for effect in planned.effects if isinstance(effect, Record)]
    assert [entry.kind for entry in change.audit] == kinds
    assert all(
        (e.actor_id, e.actor_name, e.at) == (agent.user_id, agent.display_name, AT)
        for e in change.audit
    )
    said = [effect for effect in planned.effects if isinstance(effect, SayToCustomer)]
    assert [m.text for m in change.told] == [RESPONSES.system(s.key).text for s in said]
    assert all(
        (m.author, m.platform, m.delivery) == (Author.BOT, Platform.TELEGRAM, Delivery.PENDING)
        for m in change.told
    )
    if not kinds and reply is None:
        assert change.handoff is None
    if HandoffEventKind.CLAIMED in kinds:
        assert change.handoff is not None
        assert (change.handoff.owner, change.handoff.owner_was) == (("U2", "Bob"), None)
        assert not change.handoff.keep_claimed_at
    if HandoffEventKind.TRANSFERRED in kinds:
        assert change.handoff is not None
        assert (change.handoff.owner, change.handoff.owner_was) == (("U2", "Bob"), "U1")
        assert change.handoff.keep_claimed_at
        assert change.audit[0].detail == {"from": "Alice"}
    if HandoffEventKind.RELEASED in kinds:
        assert change.handoff is not None
        assert change.handoff.owner is None
    if HandoffEventKind.RETURNED in kinds or HandoffEventKind.CLOSED in kinds:
        assert change.handoff is not None
        assert change.handoff.owner is UNSET
        assert change.handoff.outcome is HandoffOutcome(kinds[0].value)
        assert change.leave is (Mode.BOT if kinds[0] is HandoffEventKind.RETURNED else Mode.CLOSED)
    else:
        assert change.leave is None


@pytest.mark.parametrize("state", list(State))
def test_a_reply_is_stored_pending_and_introduced_only_while_the_handoff_is_open(
    state: State,
) -> None:
    before = in_state(state)
    planned = TABLE[(state, Event.REPLY, Actor.OTHER)]
    change = plan_change(
        before, planned, key=KEY, agent=BOB, reply=reply_by(BOB), responses=RESPONSES, at=AT
    )
    assert change.reply is not None
    assert (change.reply.author, change.reply.author_id, change.reply.text) == (
        Author.AGENT,
        "U2",
        "Hello",
    )
    assert (change.reply.platform_chat_id, change.reply.platform_message_id) == ("C1", "9.1")
    if before.is_open:
        assert change.reply.delivery is Delivery.PENDING
        assert change.handoff is not None
        assert change.handoff.introduce == "U2"
    else:  # kept as written, never sent
        assert change.reply.delivery is None
        assert change.handoff is None


def test_an_agent_already_introduced_is_not_again() -> None:
    before = dataclasses.replace(in_state(State.CLAIMED), introduced={"U1": 40})
    planned = TABLE[(State.CLAIMED, Event.REPLY, Actor.OWNER)]
    change = plan_change(
        before, planned, key=KEY, agent=ALICE, reply=reply_by(ALICE), responses=RESPONSES, at=AT
    )
    assert change.handoff is None  # nothing about the handoff changes: only the reply


def test_closing_asks_for_a_rating_with_buttons_naming_the_conversation() -> None:
    before = in_state(State.CLAIMED)
    planned = TABLE[(State.CLAIMED, Event.CLOSE, Actor.OWNER)]
    change = plan_change(
        before, planned, key=KEY, agent=ALICE, reply=None, responses=RESPONSES, at=AT
    )
    [thanks] = change.told
    assert thanks.decision is not None
    [row] = buttons_of(thanks.decision)
    assert [parse_rating(button.data) for button in row] == [(3, n) for n in range(1, 6)]
    assert BUTTONS in thanks.decision
