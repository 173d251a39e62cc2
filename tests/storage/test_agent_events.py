"""An agent's event stored whole: ConversationStore.apply_agent_event and locate_thread, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.agent_records import AgentChange, AuditEntry, HandoffChange
from handoff.model import Author, ConversationKey, Mode
from handoff.records import (
    Delivery,
    HandoffEventKind,
    HandoffOutcome,
    NewMessage,
    Platform,
)
from handoff.storage import (
    Conversation,
    ConversationClosed,
    Handoff,
    HandoffNotFound,
    Repository,
)
from handoff.storage.counting import StatementCounter
from handoff.storage.database import Database
from tests.storage.conftest import START

AT = START + timedelta(minutes=10)


@pytest.fixture
async def handoff(repository: Repository, conversation: Conversation) -> Handoff:
    handoff = await repository.create_handoff(
        conversation_id=conversation.id,
        reason="person_requested",
        card={"customer": {"user_id": "1", "display_name": "Ada"}, "transcript": []},
    )
    return await repository.set_handoff_thread(
        handoff.id, agent_channel="C0AGENTS", thread_ts="1.0"
    )


def reply(handoff: Handoff, ts: str, text: str = "Hi") -> NewMessage:
    return NewMessage(
        conversation_id=handoff.conversation_id,
        author=Author.AGENT,
        author_id="U0ALICE",
        author_name="Alice",
        platform=Platform.SLACK,
        platform_chat_id="C0AGENTS",
        platform_message_id=ts,
        text=text,
        created_at=AT,
        delivery=Delivery.PENDING,
    )


def first_reply(handoff: Handoff, ts: str = "1.1") -> AgentChange:
    return AgentChange(
        reply=reply(handoff, ts),
        handoff=HandoffChange(
            at=AT, owner=("U0ALICE", "Alice"), owner_was=None, introduce="U0ALICE"
        ),
        audit=(
            AuditEntry(
                kind=HandoffEventKind.CLAIMED, actor_id="U0ALICE", actor_name="Alice", at=AT
            ),
        ),
    )


async def test_a_first_reply_claims_introduces_and_is_pending_at_once(
    repository: Repository, handoff: Handoff
) -> None:
    seen: list[Handoff] = []

    def plan(read: Handoff) -> AgentChange:
        seen.append(read)
        return first_reply(read)

    applied = await repository.apply_agent_event(handoff.id, plan)

    assert seen == [handoff]
    assert applied.before == handoff
    assert not applied.repeat
    assert applied.lost is None
    [pending] = applied.pending
    assert (pending.author, pending.text, pending.delivery) == (
        Author.AGENT,
        "Hi",
        Delivery.PENDING,
    )
    assert applied.after.agent_id == "U0ALICE"
    assert applied.after.claimed_at == AT
    assert applied.after.mode is Mode.HUMAN
    assert applied.after.introduced == {"U0ALICE": pending.id}
    assert applied.after == await repository.get_handoff(handoff.id)
    [event] = await repository.handoff_events(handoff.id)
    assert (event.kind, event.actor_name, event.at) == (HandoffEventKind.CLAIMED, "Alice", AT)


async def test_a_repeated_reply_applies_nothing(repository: Repository, handoff: Handoff) -> None:
    await repository.apply_agent_event(handoff.id, first_reply)
    before = await repository.get_handoff(handoff.id)
    transfer = AgentChange(
        reply=reply(handoff, "1.1"),
        handoff=HandoffChange(at=AT, owner=("U0BOB", "Bob"), owner_was="U0ALICE"),
    )
    applied = await repository.apply_agent_event(handoff.id, lambda _: transfer)
    assert applied.repeat
    assert await repository.get_handoff(handoff.id) == before
    assert len(await repository.handoff_events(handoff.id)) == 1


async def test_an_owner_change_another_worker_overtook_is_left_out_the_reply_is_kept(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.claim_handoff(handoff.id, agent_id="U0RIVAL", agent_name="Rival")
    applied = await repository.apply_agent_event(handoff.id, lambda _: first_reply(handoff))
    assert applied.lost == f"handoff {handoff.id} is already claimed by Rival"
    assert applied.after.agent_id == "U0RIVAL"
    [pending] = applied.pending
    assert applied.after.introduced == {"U0ALICE": pending.id}  # the reply goes out introduced
    assert await repository.handoff_events(handoff.id) == []


@pytest.mark.parametrize(
    ("leave", "outcome"),
    [(Mode.BOT, HandoffOutcome.RETURNED), (Mode.CLOSED, HandoffOutcome.CLOSED)],
)
async def test_leaving_the_handoff_ends_it_and_tells_the_customer_in_the_same_transaction(
    repository: Repository,
    database: Database,
    conversation: Conversation,
    handoff: Handoff,
    leave: Mode,
    outcome: HandoffOutcome,
) -> None:
    await repository.update_conversation(conversation.id, failed_turns=2)
    said = NewMessage(
        conversation_id=conversation.id,
        author=Author.BOT,
        platform=Platform.TELEGRAM,
        text="Bye",
        decision={"buttons": [[{"label": "★", "data": "rate:1:1"}]]},
        created_at=AT,
        delivery=Delivery.PENDING,
    )
    change = AgentChange(
        told=(said,),
        handoff=HandoffChange(at=AT, outcome=outcome),
        audit=(
            AuditEntry(kind=HandoffEventKind(outcome.value), actor_id="U0A", actor_name="A", at=AT),
        ),
        leave=leave,
    )
    counter = StatementCounter(database)
    try:
        applied = await repository.apply_agent_event(handoff.id, lambda _: change)
        counts = counter.take()
    finally:
        counter.close()
    assert counts.transactions == 1
    assert applied.after.outcome is outcome
    assert [(m.text, m.decision) for m in applied.pending] == [("Bye", said.decision)]
    stored = await repository.get_conversation(conversation.id)
    assert stored is not None
    assert stored.mode is leave
    if leave is Mode.BOT:
        assert stored.failed_turns == 0
    else:
        assert stored.closed_at is not None


async def test_nothing_to_change_is_a_read(repository: Repository, handoff: Handoff) -> None:
    applied = await repository.apply_agent_event(handoff.id, lambda _: AgentChange())
    assert applied.before == applied.after == handoff
    assert applied.pending == ()


async def test_an_unknown_handoff_is_not_found(repository: Repository) -> None:
    with pytest.raises(HandoffNotFound):
        await repository.apply_agent_event(999_999, lambda _: AgentChange())


async def test_a_release_frees_the_handoff(repository: Repository, handoff: Handoff) -> None:
    await repository.apply_agent_event(handoff.id, first_reply)
    release = AgentChange(handoff=HandoffChange(at=AT, owner=None, owner_was="U0ALICE"))
    applied = await repository.apply_agent_event(handoff.id, lambda _: release)
    assert (applied.after.agent_id, applied.after.claimed_at) == (None, None)
    assert applied.after.mode is Mode.WAITING


async def test_a_thread_locates_its_handoff_and_chat(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    assert await repository.locate_thread(agent_channel="C0AGENTS", thread_ts="1.0") == (
        handoff,
        ConversationKey(conversation.channel, conversation.chat_id),
    )
    assert await repository.locate_thread(agent_channel="C0AGENTS", thread_ts="9.9") is None


# --- a request for a person -------------------------------------------------------------------


async def test_a_request_opens_the_handoff_and_the_conversation_waits_at_once(
    repository: Repository, database: Database, conversation: Conversation
) -> None:
    await repository.update_conversation(
        conversation.id, failed_turns=2, last_answered_intent="greet"
    )
    card = {"customer": {"user_id": "1", "display_name": "Ada"}, "transcript": []}
    counter = StatementCounter(database)
    try:
        handoff, new = await repository.request_handoff(
            conversation_id=conversation.id,
            reason="person_requested",
            reason_detail={"explanation": "asked"},
            card=card,
            at=AT,
        )
        assert counter.take().transactions == 1
    finally:
        counter.close()
    assert new
    assert (handoff.reason, handoff.card, handoff.introduced, handoff.requested_at) == (
        "person_requested",
        card,
        {},
        AT,
    )
    [event] = await repository.handoff_events(handoff.id)
    assert (event.kind, event.detail) == (
        HandoffEventKind.REQUESTED,
        {"reason": "person_requested"},
    )
    stored = await repository.get_conversation(conversation.id)
    assert stored is not None
    assert (stored.mode, stored.failed_turns, stored.last_answered_intent) == (
        Mode.WAITING,
        0,
        None,
    )

    again, new = await repository.request_handoff(
        conversation_id=conversation.id, reason="frustrated", reason_detail={}, card={}
    )
    assert (again, new) == (handoff, False)  # an earlier try opened it: that one goes on
    assert len(await repository.handoff_events(handoff.id)) == 1


async def test_a_closed_conversation_cannot_request_a_person(
    repository: Repository, conversation: Conversation
) -> None:
    await repository.close_conversation(conversation.id)
    with pytest.raises(ConversationClosed):
        await repository.request_handoff(
            conversation_id=conversation.id, reason="x", reason_detail={}, card={}
        )
    assert await repository.open_handoff_for(conversation.id) is None
