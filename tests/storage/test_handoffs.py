"""Handoffs: their lifecycle, their agent threads and their audit trail."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from handoff.storage import (
    Conversation,
    ConversationNotFound,
    Handoff,
    HandoffAlreadyClaimed,
    HandoffAlreadyOpen,
    HandoffEventKind,
    HandoffNotFound,
    HandoffNotOpen,
    HandoffOutcome,
    Repository,
    ThreadAlreadyLinked,
)
from tests.storage.conftest import START

DETAIL = {"codes": ["low_confidence", "negative_sentiment"], "confidence": 0.31, "turns": 2}


@pytest.fixture
async def handoff(repository: Repository, conversation: Conversation) -> Handoff:
    return await repository.create_handoff(
        conversation_id=conversation.id, reason="low_confidence", reason_detail=DETAIL
    )


async def test_create_handoff(repository: Repository, conversation: Conversation) -> None:
    at = START + timedelta(minutes=5)
    handoff = await repository.create_handoff(
        conversation_id=conversation.id, reason="asked_for_human", reason_detail=DETAIL, at=at
    )

    assert handoff.conversation_id == conversation.id
    assert handoff.reason == "asked_for_human"
    assert handoff.reason_detail == DETAIL
    assert handoff.requested_at == at
    assert handoff.is_open
    assert (handoff.claimed_at, handoff.closed_at, handoff.returned_at, handoff.outcome) == (
        None,
        None,
        None,
        None,
    )
    assert (handoff.agent_id, handoff.agent_channel, handoff.agent_thread_ts) == (None,) * 3
    assert await repository.get_handoff(handoff.id) == handoff
    assert await repository.open_handoff_for(conversation.id) == handoff


async def test_reason_detail_defaults_to_an_empty_object(
    repository: Repository, conversation: Conversation
) -> None:
    handoff = await repository.create_handoff(conversation_id=conversation.id, reason="x")
    assert handoff.reason_detail == {}


async def test_one_handoff_in_progress_per_conversation(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    with pytest.raises(HandoffAlreadyOpen):
        await repository.create_handoff(conversation_id=conversation.id, reason="again")

    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.RETURNED)
    second = await repository.create_handoff(conversation_id=conversation.id, reason="again")

    assert second.id != handoff.id
    assert await repository.open_handoff_for(conversation.id) == second


async def test_concurrent_handoff_requests_create_one(
    repository: Repository, conversation: Conversation
) -> None:
    results = await asyncio.gather(
        *(
            repository.create_handoff(conversation_id=conversation.id, reason="race")
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(result, Handoff) for result in results) == 1
    assert sum(isinstance(result, HandoffAlreadyOpen) for result in results) == 4


async def test_handoff_for_a_missing_conversation(repository: Repository) -> None:
    with pytest.raises(ConversationNotFound):
        await repository.create_handoff(conversation_id=999_999, reason="x")


async def test_missing_handoffs_read_as_none(
    repository: Repository, conversation: Conversation
) -> None:
    assert await repository.get_handoff(999_999) is None
    assert await repository.open_handoff_for(conversation.id) is None


# Claiming, transferring, releasing


async def test_claim_handoff(repository: Repository, handoff: Handoff) -> None:
    at = START + timedelta(minutes=1)
    claimed = await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Bob", at=at)

    assert (claimed.agent_id, claimed.agent_name, claimed.claimed_at) == ("U1", "Bob", at)
    assert claimed.is_open


async def test_a_claimed_handoff_cannot_be_claimed_again(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Bob")

    with pytest.raises(HandoffAlreadyClaimed, match="Bob") as raised:
        await repository.claim_handoff(handoff.id, agent_id="U2", agent_name="Eve")

    assert (raised.value.agent_id, raised.value.agent_name) == ("U1", "Bob")
    stored = await repository.get_handoff(handoff.id)
    assert stored is not None
    assert stored.agent_id == "U1"


async def test_concurrent_claims_let_exactly_one_agent_win(
    repository: Repository, handoff: Handoff
) -> None:
    results = await asyncio.gather(
        *(
            repository.claim_handoff(handoff.id, agent_id=f"U{n}", agent_name=f"Agent {n}")
            for n in range(6)
        ),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, Handoff)]
    losers = [result for result in results if isinstance(result, HandoffAlreadyClaimed)]
    assert len(winners) == 1
    assert len(losers) == 5
    assert {loser.agent_id for loser in losers} == {winners[0].agent_id}


async def test_transfer_keeps_the_first_claim_time(
    repository: Repository, handoff: Handoff
) -> None:
    claimed = await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Bob")
    transferred = await repository.transfer_handoff(handoff.id, agent_id="U2", agent_name="Eve")

    assert (transferred.agent_id, transferred.agent_name) == ("U2", "Eve")
    assert transferred.claimed_at == claimed.claimed_at


async def test_transfer_of_an_unclaimed_handoff_assigns_it(
    repository: Repository, handoff: Handoff
) -> None:
    at = START + timedelta(minutes=9)
    transferred = await repository.transfer_handoff(
        handoff.id, agent_id="U2", agent_name="Eve", at=at
    )
    assert (transferred.agent_id, transferred.claimed_at) == ("U2", at)


async def test_release_puts_the_handoff_back_in_the_queue(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Bob")

    released = await repository.release_handoff(handoff.id)

    assert (released.agent_id, released.agent_name, released.claimed_at) == (None, None, None)
    reclaimed = await repository.claim_handoff(handoff.id, agent_id="U2", agent_name="Eve")
    assert reclaimed.agent_id == "U2"


# Finishing


@pytest.mark.parametrize("outcome", list(HandoffOutcome))
async def test_finish_handoff(
    repository: Repository, conversation: Conversation, handoff: Handoff, outcome: HandoffOutcome
) -> None:
    at = START + timedelta(hours=2)
    finished = await repository.finish_handoff(handoff.id, outcome=outcome, at=at)

    assert finished.outcome is outcome
    assert not finished.is_open
    if outcome is HandoffOutcome.CLOSED:
        assert (finished.closed_at, finished.returned_at) == (at, None)
    else:
        assert (finished.closed_at, finished.returned_at) == (None, at)
    assert await repository.open_handoff_for(conversation.id) is None


async def test_a_finished_handoff_cannot_change(repository: Repository, handoff: Handoff) -> None:
    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.CLOSED)

    with pytest.raises(HandoffNotOpen):
        await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.RETURNED)
    with pytest.raises(HandoffNotOpen):
        await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Bob")
    with pytest.raises(HandoffNotOpen):
        await repository.transfer_handoff(handoff.id, agent_id="U1", agent_name="Bob")
    with pytest.raises(HandoffNotOpen):
        await repository.release_handoff(handoff.id)


async def test_transitions_of_a_missing_handoff(repository: Repository) -> None:
    with pytest.raises(HandoffNotFound):
        await repository.claim_handoff(999_999, agent_id="U1", agent_name="Bob")
    with pytest.raises(HandoffNotFound):
        await repository.transfer_handoff(999_999, agent_id="U1", agent_name="Bob")
    with pytest.raises(HandoffNotFound):
        await repository.release_handoff(999_999)
    with pytest.raises(HandoffNotFound):
        await repository.finish_handoff(999_999, outcome=HandoffOutcome.CLOSED)
    with pytest.raises(HandoffNotFound):
        await repository.set_handoff_thread(999_999, agent_channel="C1", thread_ts="1.0")


# Agent threads


async def test_set_and_find_the_agent_thread(repository: Repository, handoff: Handoff) -> None:
    linked = await repository.set_handoff_thread(
        handoff.id, agent_channel="C0SUPPORT", thread_ts="1700000000.000100"
    )

    assert (linked.agent_channel, linked.agent_thread_ts) == ("C0SUPPORT", "1700000000.000100")
    found = await repository.find_handoff_by_thread(
        agent_channel="C0SUPPORT", thread_ts="1700000000.000100"
    )
    assert found == linked
    assert (
        await repository.find_handoff_by_thread(
            agent_channel="C0OTHER", thread_ts="1700000000.000100"
        )
        is None
    )


async def test_a_finished_handoff_is_still_found_by_thread(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.set_handoff_thread(handoff.id, agent_channel="C1", thread_ts="1.0")
    finished = await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.CLOSED)
    assert await repository.find_handoff_by_thread(agent_channel="C1", thread_ts="1.0") == finished


async def test_a_thread_belongs_to_one_handoff(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    await repository.set_handoff_thread(handoff.id, agent_channel="C1", thread_ts="1.0")
    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.RETURNED)
    second = await repository.create_handoff(conversation_id=conversation.id, reason="again")

    with pytest.raises(ThreadAlreadyLinked):
        await repository.set_handoff_thread(second.id, agent_channel="C1", thread_ts="1.0")

    # The same ts in another channel is another thread.
    other = await repository.set_handoff_thread(second.id, agent_channel="C2", thread_ts="1.0")
    assert other.agent_channel == "C2"


# Events


async def test_handoff_events_come_back_in_time_order(
    repository: Repository, handoff: Handoff
) -> None:
    t = START + timedelta(minutes=10)
    # Recorded out of order on purpose; the two at t+2 keep the order they were recorded in.
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.CLAIMED, actor_id="U1", actor_name="Bob", at=t
    )
    await repository.add_handoff_event(
        handoff.id,
        kind=HandoffEventKind.CLOSED,
        actor_id="U2",
        actor_name="Eve",
        at=t + timedelta(seconds=2),
    )
    await repository.add_handoff_event(
        handoff.id,
        kind=HandoffEventKind.RATED,
        detail={"rating": 5},
        at=t + timedelta(seconds=2),
    )
    await repository.add_handoff_event(
        handoff.id,
        kind=HandoffEventKind.REQUESTED,
        detail=DETAIL,
        at=t - timedelta(seconds=30),
    )
    await repository.add_handoff_event(
        handoff.id,
        kind=HandoffEventKind.TRANSFERRED,
        actor_id="U1",
        detail={"to": "U2"},
        at=t + timedelta(seconds=1),
    )

    events = await repository.handoff_events(handoff.id)

    assert [event.kind for event in events] == [
        HandoffEventKind.REQUESTED,
        HandoffEventKind.CLAIMED,
        HandoffEventKind.TRANSFERRED,
        HandoffEventKind.CLOSED,
        HandoffEventKind.RATED,
    ]
    assert events[0].detail == DETAIL
    assert (events[1].actor_id, events[1].actor_name, events[1].detail) == ("U1", "Bob", None)
    assert events[4].detail == {"rating": 5}
    assert all(event.handoff_id == handoff.id for event in events)
    assert all(event.at.utcoffset() == timedelta(0) for event in events)


async def test_every_event_kind_is_accepted(repository: Repository, handoff: Handoff) -> None:
    for kind in HandoffEventKind:
        event = await repository.add_handoff_event(handoff.id, kind=kind)
        assert event.kind is kind
        assert event.at.utcoffset() == timedelta(0)
    assert len(await repository.handoff_events(handoff.id)) == len(HandoffEventKind)


async def test_events_belong_to_their_handoff(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    await repository.add_handoff_event(handoff.id, kind=HandoffEventKind.REQUESTED)
    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.RETURNED)
    second = await repository.create_handoff(conversation_id=conversation.id, reason="again")

    assert await repository.handoff_events(second.id) == []
    assert len(await repository.handoff_events(handoff.id)) == 1


async def test_event_for_a_missing_handoff(repository: Repository) -> None:
    with pytest.raises(HandoffNotFound):
        await repository.add_handoff_event(999_999, kind=HandoffEventKind.CLAIMED)
