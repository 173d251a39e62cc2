"""The SLA ladder's records on both databases: the clocks as read, each step taken once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from handoff.agent_texts import load_agent_texts
from handoff.errors import DeliveryError
from handoff.hours import closed_note
from handoff.model import Agent, Author, ConversationKey, DeskThread
from handoff.records import HandoffEventKind, NewMessage, Platform
from handoff.responses import Reply, load_responses
from handoff.sla import SlaSettings, SlaStep, due_steps
from handoff.sla_watch import SlaWatch
from handoff.storage import Conversation, Customer, Handoff, HandoffOutcome, Repository
from handoff.waiting import with_queue
from tests.handoff.test_hours import OFFICE, berlin
from tests.storage.conftest import START

AGENTS_FILE = Path(__file__).resolve().parents[2] / "config" / "agents.yml"


@pytest.fixture
async def handoff(repository: Repository, conversation: Conversation) -> Handoff:
    created = await repository.create_handoff(
        conversation_id=conversation.id, reason="person_requested", at=START
    )
    return await repository.set_handoff_thread(
        created.id, agent_channel="C0AGENTS", thread_ts="100.1"
    )


async def test_an_open_handoff_with_a_thread_is_watched(
    repository: Repository, handoff: Handoff
) -> None:
    [subject] = await repository.sla_subjects()
    assert subject.handoff_id == handoff.id
    assert subject.key.chat_id == "1001"
    assert (subject.thread.channel, subject.thread.thread_ts) == ("C0AGENTS", "100.1")
    assert subject.requested_at == START
    assert subject.owner is None
    assert (subject.repinged_at, subject.escalated_at, subject.idle_pinged_at) == (None,) * 3


async def test_handoffs_without_a_thread_or_finished_are_not_watched(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.RETURNED)
    await repository.create_handoff(conversation_id=conversation.id, reason="frustrated")
    assert await repository.sla_subjects() == []


async def test_a_step_is_taken_once_even_by_racing_workers(
    repository: Repository, handoff: Handoff
) -> None:
    at = START + timedelta(seconds=130)
    results = await asyncio.gather(
        *(
            repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=START)
            for _ in range(5)
        )
    )
    assert sorted(results) == [False] * 4 + [True]
    [subject] = await repository.sla_subjects()
    assert subject.repinged_at == at


async def test_an_escalated_handoff_is_not_repinged_and_the_record_shows_it(
    repository: Repository, handoff: Handoff
) -> None:
    at = START + timedelta(seconds=700)
    assert await repository.mark_sla_step(handoff.id, SlaStep.ESCALATE, at=at, anchor=START)
    assert not await repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=START)
    stored = await repository.get_handoff(handoff.id)
    assert stored is not None
    assert stored.escalated_at == at


async def test_a_claimed_handoff_is_neither_repinged_nor_escalated(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.claim_handoff(handoff.id, agent_id="U0AGENT1", agent_name="Alice")
    for step in (SlaStep.REPING, SlaStep.ESCALATE):
        assert not await repository.mark_sla_step(
            handoff.id, step, at=START + timedelta(hours=1), anchor=START
        )


async def test_an_undone_step_can_be_taken_again(repository: Repository, handoff: Handoff) -> None:
    at = START + timedelta(seconds=130)
    assert await repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=START)
    await repository.unmark_sla_step(handoff.id, SlaStep.REPING, at=at, previous=None)
    [subject] = await repository.sla_subjects()
    assert subject.repinged_at is None
    assert await repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=START)


async def test_the_owner_is_pinged_once_per_quiet_stretch(
    repository: Repository, conversation: Conversation, handoff: Handoff
) -> None:
    claimed_at = START + timedelta(seconds=60)
    await repository.claim_handoff(
        handoff.id, agent_id="U0AGENT1", agent_name="Alice", at=claimed_at
    )
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.CLAIMED, actor_id="U0AGENT1", at=claimed_at
    )
    [subject] = await repository.sla_subjects()
    assert subject.owner == Agent("U0AGENT1", "Alice")
    assert subject.claimed_at == claimed_at
    assert subject.last_agent_reply_at is None
    ping = START + timedelta(seconds=400)
    idle = SlaStep.IDLE_REPING
    assert await repository.mark_sla_step(handoff.id, idle, at=ping, anchor=claimed_at)
    assert not await repository.mark_sla_step(handoff.id, idle, at=ping, anchor=claimed_at)

    replied = START + timedelta(seconds=500)
    await repository.add_message(
        NewMessage(
            conversation_id=conversation.id,
            author=Author.AGENT,
            platform=Platform.SLACK,
            created_at=replied,
            text="Let me check.",
        )
    )
    [subject] = await repository.sla_subjects()
    assert subject.last_agent_reply_at == replied
    later = START + timedelta(seconds=900)
    assert await repository.mark_sla_step(handoff.id, idle, at=later, anchor=replied)


async def test_a_transfer_starts_the_new_owners_clock(
    repository: Repository, handoff: Handoff
) -> None:
    await repository.claim_handoff(
        handoff.id, agent_id="U0AGENT1", agent_name="Alice", at=START + timedelta(seconds=60)
    )
    transferred_at = START + timedelta(seconds=500)
    await repository.transfer_handoff(
        handoff.id, agent_id="U0AGENT2", agent_name="Bob", at=transferred_at
    )
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.TRANSFERRED, actor_id="U0AGENT2", at=transferred_at
    )
    [subject] = await repository.sla_subjects()
    assert subject.owner == Agent("U0AGENT2", "Bob")
    assert subject.claimed_at == transferred_at


class RecordingAlerts:
    """The agents' tool as the watcher sees it: records posts, or refuses the next ``fail``."""

    def __init__(self, *, fail: int = 0) -> None:
        self.posts: list[tuple[str, str]] = []
        self.fail = fail

    def _record(self, kind: str, text: str) -> None:
        if self.fail:
            self.fail -= 1
            raise DeliveryError("Slack is away")
        self.posts.append((kind, text))

    async def reping(self, thread: DeskThread, text: str) -> None:
        self._record("reping", text)

    async def escalate(self, thread: DeskThread, text: str, note: str) -> None:
        self._record("escalate", f"{text} / {note}")

    async def ping_owner(self, thread: DeskThread, owner: Agent, text: str) -> None:
        self._record("idle", text)


async def test_the_watcher_tries_a_failed_post_again_and_redraws_an_escalated_card(
    repository: Repository, handoff: Handoff
) -> None:
    now = [START + timedelta(seconds=130)]
    alerts = RecordingAlerts(fail=1)
    redrawn: list[int] = []

    async def redraw(handoff_id: int, key: ConversationKey) -> None:
        redrawn.append(handoff_id)

    watch = SlaWatch(
        store=repository,
        alerts=alerts,
        texts=load_agent_texts(AGENTS_FILE),
        settings=SlaSettings(wait_update_after=1e9),  # the customer's side: test_waiting
        redraw=redraw,
        clock=lambda: now[0],
    )
    assert await watch.tick() == 0  # Slack refused: not recorded as taken
    assert await watch.tick() == 1
    assert await watch.tick() == 0
    assert alerts.posts == [
        ("reping", f"Handoff #{handoff.id} has waited 2 min for an agent. Can someone claim it?")
    ]
    now[0] = START + timedelta(seconds=601)
    assert await watch.tick() == 1
    assert alerts.posts[-1][0] == "escalate"
    assert "10 min" in alerts.posts[-1][1]
    assert redrawn == [handoff.id]


async def test_the_wait_update_is_sent_once_and_escalation_does_not_stop_it(
    repository: Repository, handoff: Handoff
) -> None:
    at = START + timedelta(seconds=700)
    assert await repository.mark_sla_step(handoff.id, SlaStep.ESCALATE, at=at, anchor=START)
    update = SlaStep.WAIT_UPDATE
    assert await repository.mark_sla_step(handoff.id, update, at=at, anchor=START)
    assert not await repository.mark_sla_step(handoff.id, update, at=at, anchor=START)
    [subject] = await repository.sla_subjects()
    assert subject.wait_updated_at == at


async def test_the_queue_counts_the_unclaimed_handoffs_before_this_one(
    repository: Repository, customer: Customer, handoff: Handoff
) -> None:
    later = []
    for chat in ("2002", "2003"):
        conversation = await repository.open_conversation(
            customer_id=customer.id, channel="telegram", chat_id=chat
        )
        later.append(
            await repository.create_handoff(conversation_id=conversation.id, reason="frustrated")
        )
    assert [await repository.queue_position(h.id) for h in (handoff, *later)] == [1, 2, 3]
    await repository.claim_handoff(handoff.id, agent_id="U0AGENT1", agent_name="Alice")
    assert await repository.queue_position(later[1].id) == 2


async def test_recent_claim_waits_are_measured_newest_first(
    repository: Repository, customer: Customer, handoff: Handoff
) -> None:
    assert await repository.recent_claim_waits(limit=20) == []
    await repository.claim_handoff(
        handoff.id, agent_id="U0AGENT1", agent_name="Alice", at=START + timedelta(seconds=90)
    )
    conversation = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="2002"
    )
    second = await repository.create_handoff(
        conversation_id=conversation.id, reason="frustrated", at=START + timedelta(minutes=5)
    )
    await repository.claim_handoff(
        second.id, agent_id="U0AGENT2", agent_name="Bob", at=START + timedelta(minutes=6)
    )
    assert await repository.recent_claim_waits(limit=20) == [60.0, 90.0]
    assert await repository.recent_claim_waits(limit=1) == [60.0]


async def test_the_queue_view_reads_both_at_once(repository: Repository, handoff: Handoff) -> None:
    assert await repository.queue_view(handoff.id, claims=20) == (1, [])


async def test_the_wait_estimate_counts_business_hours_only_and_from_opening_when_closed(
    repository: Repository, customer: Customer
) -> None:
    responses = load_responses(AGENTS_FILE.parent / "responses.yml")
    said = Reply(text="I'm getting a person.")

    async def handoff_at(chat: str, at: datetime, *, claimed: datetime | None = None) -> Handoff:
        conversation = await repository.open_conversation(
            customer_id=customer.id, channel="telegram", chat_id=chat
        )
        created = await repository.create_handoff(
            conversation_id=conversation.id,
            reason="person_requested",
            at=at,
            card={"out_of_hours": closed_note(OFFICE, at)},
        )
        if claimed is not None:
            await repository.claim_handoff(
                created.id, agent_id="U0AGENT1", agent_name="Alice", at=claimed
            )
        return created

    # Asked for on Friday evening (closed), claimed on Monday 10 minutes after opening:
    # it waited 10 minutes of business hours, not the weekend.
    await handoff_at("3001", berlin(11, 16), claimed=berlin(14, 9, 10))
    open_now = await handoff_at("3002", berlin(14, 11))
    told = await with_queue(said, open_now, store=repository, responses=responses, hours=OFFICE)
    assert "half of the conversations were picked up by a person within 10 min" in told.text

    # Asked for on Saturday: when people are back, and the estimate from then.
    closed_now = await handoff_at("3003", berlin(12, 10))
    told = await with_queue(said, closed_now, store=repository, responses=responses, hours=OFFICE)
    assert "people are back Monday 14 December, 09:00 (Europe/Berlin)" in told.text
    assert "half of the conversations were picked up within 10 min of the team being there" in (
        told.text
    )
    assert [b.data for row in told.buttons for b in row] == ["wait:bot", "wait:later"]


async def test_a_released_handoff_is_repinged_and_escalated_again_from_the_release(
    repository: Repository, handoff: Handoff
) -> None:
    settings = SlaSettings(reping_after=120, escalate_after=600, wait_update_after=1e9)
    assert await repository.mark_sla_step(
        handoff.id, SlaStep.REPING, at=START + timedelta(seconds=130), anchor=START
    )
    assert await repository.mark_sla_step(
        handoff.id, SlaStep.ESCALATE, at=START + timedelta(seconds=610), anchor=START
    )
    claimed, released = START + timedelta(seconds=700), START + timedelta(seconds=900)
    await repository.claim_handoff(handoff.id, agent_id="U0AGENT1", agent_name="Alice", at=claimed)
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.CLAIMED, actor_id="U0AGENT1", at=claimed
    )
    await repository.release_handoff(handoff.id)
    await repository.add_handoff_event(
        handoff.id, kind=HandoffEventKind.RELEASED, actor_id="U0AGENT1", at=released
    )

    [subject] = await repository.sla_subjects()
    assert (subject.owner, subject.released_at) == (None, released)
    (due,) = due_steps(subject, now=released + timedelta(seconds=125), settings=settings)
    assert (due.step, due.anchor) == (SlaStep.REPING, released)
    at = released + timedelta(seconds=125)
    assert await repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=released)
    assert not await repository.mark_sla_step(handoff.id, SlaStep.REPING, at=at, anchor=released)
    later = released + timedelta(seconds=610)
    assert await repository.mark_sla_step(handoff.id, SlaStep.ESCALATE, at=later, anchor=released)
    [subject] = await repository.sla_subjects()
    assert due_steps(subject, now=later + timedelta(hours=1), settings=settings) == ()
