"""Customers' messages reach the thread once each and in order, however Slack misbehaves:
answers that come after the client's time-out, 429 storms, rate limits longer than Tandem
waits. Every message carries its outbox id; the tests count what was sent, posted,
duplicated, lost and out of order.
"""

# ruff: noqa: F811 - the adapter tests' fixtures are imported, then requested by name

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest

from bot.adapters.slack import RetryPolicy, SlackAdapter
from bot.adapters.slack.tagged import EVENT_TYPE, file_tag, tagged_file_name
from bot.http import HttpServer
from bot.simulators.slack import SlackSimulator
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import (
    Agent,
    Attachment,
    CardState,
    CardStatus,
    CustomerRelay,
    DeskThread,
    MessageKind,
)
from tests.adapters.test_slack_adapter import (  # noqa: F401 - fixtures, requested by name
    AGENTS,
    BOB,
    FAST,
    MARIA,
    RecordingHandler,
    adapter,
    handler,
    handoffs,
    http,
    sim,
    slack_adapter,
    thread,
)
from tests.adapters.test_slack_cards import make_ticket

# The client gives up after a second; the simulator answers the slow posts after three.
IMPATIENT = RetryPolicy(max_retries=3, backoff=0.01, jitter=0.0, timeout=1)
LATE = 3.0


def message(n: int, text: str | None = None) -> CustomerRelay:
    return CustomerRelay(kind=MessageKind.TEXT, text=text or f"message {n}", outbox_id=n)


def posted_ids(sim: SlackSimulator, thread: DeskThread) -> list[int]:
    """The outbox ids of the thread's messages, in the thread's order (parts counted)."""
    replies = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    return [int(r.metadata["event_payload"]["outbox_id"]) for r in replies if r.metadata]


def counts(sent: Sequence[int], posted: Sequence[int]) -> dict[str, int]:
    seen = Counter(posted)
    first_seen = list(dict.fromkeys(posted))
    return {
        "sent": len(sent),
        "posted": len(posted),
        "duplicated": sum(n - 1 for n in seen.values()),
        "lost": sum(1 for n in sent if n not in seen),
        # Posted after a message that was sent later than it.
        "out of order": sum(
            1 for i, n in enumerate(first_seen) if any(m > n for m in first_seen[:i])
        ),
    }


@pytest.fixture
async def impatient(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> AsyncIterator[SlackAdapter]:
    slack = slack_adapter(sim, handler, http=http, retry=IMPATIENT)
    await http.start()
    await slack.start()
    yield slack
    await slack.stop()


# --- answers after the time-out --------------------------------------------------------------


async def test_slack_answering_after_the_time_out_gives_no_duplicates(
    sim: SlackSimulator, impatient: SlackAdapter
) -> None:
    thread = await impatient.open_handoff(make_ticket())
    sent = list(range(1, 9))

    for n in sent:
        if n in (2, 5, 7):
            sim.slow_next("chat.postMessage", delay=LATE)
        await impatient.relay_to_agents(thread, message(n), customer=MARIA)

    assert counts(sent, posted_ids(sim, thread)) == {
        "sent": 8,
        "posted": 8,
        "duplicated": 0,
        "lost": 0,
        "out of order": 0,
    }
    looks = sim.calls_to("conversations.replies")
    assert len(looks) == 3  # once after each time-out, before posting again
    assert all(look.params["include_all_metadata"] in (True, "1") for look in looks)
    (tag,) = {
        post.params["metadata"]["event_type"] for post in sim.calls_to("chat.postMessage")[1:]
    }
    assert tag == EVENT_TYPE


async def test_a_message_left_in_doubt_is_looked_for_before_it_is_sent_again(
    sim: SlackSimulator, impatient: SlackAdapter
) -> None:
    thread = await impatient.open_handoff(make_ticket())
    sim.slow_next("chat.postMessage", delay=LATE)
    # Slack cannot even say what is in the thread: the post stays in doubt.
    sim.fail_next("conversations.replies", status=503, times=1 + IMPATIENT.max_retries)

    with pytest.raises(DeliveryError):
        await impatient.relay_to_agents(thread, message(1), customer=MARIA)
    # The core keeps it pending and sends it again later.
    ts = await impatient.relay_to_agents(thread, message(1), customer=MARIA)

    assert posted_ids(sim, thread) == [1]
    (reply,) = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    assert ts == reply.ts
    assert len(sim.calls_to("chat.postMessage")) == 2  # the card and the one post


async def test_a_message_posted_by_a_worker_that_died_is_found_not_posted_again(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    first = await adapter.relay_to_agents(thread, message(1), customer=MARIA)
    assert sim.calls_to("conversations.replies") == []  # a first try only posts
    # The worker died before recording it delivered; another finds it pending.
    again = await adapter.relay_to_agents(
        thread, replace(message(1), in_doubt=True), customer=MARIA
    )

    assert again == first
    assert posted_ids(sim, thread) == [1]
    assert len(sim.calls_to("conversations.replies")) == 1


async def test_a_merged_post_by_a_worker_that_died_is_found_for_the_messages_it_shows(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    merged = await adapter.relay_many(thread, [message(1), message(2)], customer=MARIA)
    assert len(set(merged)) == 1
    assert sim.calls_to("conversations.replies") == []
    # Pending after the death: the two it showed, and one that came after.
    doubted = [replace(message(n), in_doubt=True) for n in (1, 2)] + [message(3)]
    again = await adapter.relay_many(thread, doubted, customer=MARIA)
    assert again == merged  # for 1 and 2; 3 follows on its own
    await adapter.relay_to_agents(thread, message(3), customer=MARIA)

    assert posted_ids(sim, thread) == [1, 3]
    assert len(sim.calls_to("conversations.replies")) == 1


async def test_the_rest_of_a_merged_post_is_found_when_only_its_first_was_recorded(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    merged = await adapter.relay_many(thread, [message(n) for n in (1, 2, 3)], customer=MARIA)
    # The worker died having recorded message 1 delivered: 2 and 3 are pending.
    rest = [replace(message(n), in_doubt=True) for n in (2, 3)]
    again = await adapter.relay_many(thread, rest, customer=MARIA)

    assert again == merged[1:]
    assert posted_ids(sim, thread) == [1]  # the one merged post


LONG = "x" * 35_000  # two posts


async def test_a_long_message_sent_again_posts_only_its_missing_part(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", error="msg_blocked", after=1)

    with pytest.raises(DeliveryError, match="msg_blocked"):
        await adapter.relay_to_agents(thread, message(1, LONG), customer=MARIA)
    await adapter.relay_to_agents(thread, message(1, LONG), customer=MARIA)

    replies = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    parts = [r.metadata["event_payload"]["part"] for r in replies if r.metadata]
    assert parts == [1, 2]


# --- order under a 429 storm -----------------------------------------------------------------


async def test_under_a_429_storm_messages_reach_the_thread_in_the_order_sent(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sent = list(range(1, 11))
    # Four 429s among the next calls: 429, ok, 429, 429, ok, ok, 429, then all ok.
    for works_first in (0, 1, 0, 2):
        sim.fail_next("chat.postMessage", status=429, retry_after=0, after=works_first)

    # All at once, as the core hands them over; each must wait for the one before.
    await asyncio.gather(
        *(adapter.relay_to_agents(thread, message(n), customer=MARIA) for n in sent)
    )

    assert counts(sent, posted_ids(sim, thread)) == {
        "sent": 10,
        "posted": 10,
        "duplicated": 0,
        "lost": 0,
        "out of order": 0,
    }


async def test_a_note_waits_behind_a_customer_message_being_retried(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", status=503, times=2)

    await asyncio.gather(
        adapter.relay_to_agents(thread, message(1, "before the note"), customer=MARIA),
        adapter.post_note(thread, "Alice claimed this conversation"),
    )

    replies = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    assert [r.text for r in replies][1] == "Alice claimed this conversation"
    assert posted_ids(sim, thread) == [1]


# --- waiting is not failing ------------------------------------------------------------------


async def test_a_rate_limit_longer_than_the_budget_defers_with_nothing_posted(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", status=429, retry_after=90)

    with pytest.raises(DeliveryDeferred) as deferred:
        await adapter.relay_to_agents(thread, message(1), customer=MARIA)

    assert deferred.value.retry_after == 90
    assert not isinstance(deferred.value, DeliveryError)
    assert len(sim.calls_to("chat.postMessage")) == 2  # the card, and the one refused try
    assert posted_ids(sim, thread) == []


async def test_rate_limits_that_outlast_the_retries_defer_every_kind_of_call(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.update", status=429, retry_after=0, times=10)
    sim.fail_next("chat.postEphemeral", status=429, retry_after=120)

    with pytest.raises(DeliveryDeferred) as card:
        await adapter.show_card(thread, CardState(ticket=make_ticket(), status=CardStatus.WAITING))
    with pytest.raises(DeliveryDeferred) as hint:
        await adapter.tell_agent(thread, Agent(user_id=BOB, display_name="Bob"), "later")

    assert len(sim.calls_to("chat.update")) == 1 + FAST.max_retries
    assert (card.value.retry_after, hint.value.retry_after) == (0, 120)


async def test_a_deferral_after_part_of_a_long_message_is_a_failure_that_resumes(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", status=429, retry_after=90, after=1)

    with pytest.raises(DeliveryError, match="part 2 of 2"):
        await adapter.relay_to_agents(thread, message(1, LONG), customer=MARIA)
    await adapter.relay_to_agents(thread, message(1, LONG), customer=MARIA)

    assert posted_ids(sim, thread) == [1, 1]  # its two parts, once each


# --- files: Slack takes no metadata on a file share; the file's name carries the tag -------

PHOTO = b"\x89PNG\r\n\x1a\n a photo"


def photo(n: int, *, content: bytes | None = PHOTO) -> CustomerRelay:
    return CustomerRelay(
        kind=MessageKind.PHOTO,
        text="the damage",
        attachment=Attachment(file_id="AgAD"),
        content=content,
        outbox_id=n,
    )


def shared_files(sim: SlackSimulator, thread: DeskThread) -> list[str]:
    """The names of the files shared in the thread, in the thread's order."""
    replies = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    return [str(f["name"]) for r in replies for f in r.files or []]


async def test_a_file_shared_by_a_worker_that_died_is_found_not_uploaded_again(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    first = await adapter.relay_to_agents(thread, photo(7), customer=MARIA)
    assert shared_files(sim, thread) == ["photo.tandem-7.jpg"]
    assert sim.calls_to("conversations.replies") == []  # a first try only uploads
    # The worker died before recording it delivered: its replay has the bytes again, the
    # redelivery scan only the record (it would post a note of the file).
    replayed = await adapter.relay_to_agents(
        thread, replace(photo(7), in_doubt=True), customer=MARIA
    )
    rescanned = await adapter.relay_to_agents(
        thread, replace(photo(7, content=None), in_doubt=True), customer=MARIA
    )

    assert replayed == rescanned == first
    assert len(sim.files) == 1
    assert shared_files(sim, thread) == ["photo.tandem-7.jpg"]
    assert len(sim.calls_to("chat.postMessage")) == 1  # the card: no note of the file
    # A file of the same name, of another message, is not taken for it.
    other = await adapter.relay_to_agents(thread, replace(photo(8), in_doubt=True), customer=MARIA)
    assert other != first
    assert shared_files(sim, thread) == ["photo.tandem-7.jpg", "photo.tandem-8.jpg"]


async def test_a_file_shared_after_the_time_out_is_not_shared_twice(
    sim: SlackSimulator, impatient: SlackAdapter
) -> None:
    thread = await impatient.open_handoff(make_ticket())
    sim.slow_next("files.completeUploadExternal", delay=LATE)

    file_id = await impatient.relay_to_agents(thread, photo(3), customer=MARIA)

    assert shared_files(sim, thread) == ["photo.tandem-3.jpg"]
    assert [f.id for f in sim.files] == [file_id]
    assert len(sim.calls_to("chat.postMessage")) == 1  # the card: no note of the file


def test_a_customer_file_name_cannot_pass_for_a_tag() -> None:
    assert tagged_file_name("invoice.pdf", 12) == "invoice.tandem-12.pdf"
    assert tagged_file_name("README", 12) == "README.tandem-12"
    assert tagged_file_name("x.tandem-99.pdf", 12) == "x.tandem-12.pdf"
    assert file_tag("x.tandem-12.pdf") == 12
    assert file_tag("x.tandem-12") == 12
    assert file_tag("tandem-12.pdf") is None
