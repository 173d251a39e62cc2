"""The Slack desk under the channel's limit, against the simulator with its per-channel 429
switched on: several customer messages merged into one tagged post, in order; a thread
whose turn is far is deferred (nothing posted) and keeps the turn; a post merged in doubt
is found in the thread, not posted again; the simulator's limit itself."""

# ruff: noqa: F811 - the adapter tests' fixtures are imported, then requested by name

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.adapters.slack import RetryPolicy
from bot.adapters.slack.pacing import MemoryPacer, PacingPolicy
from bot.http import HttpServer
from bot.simulators.slack import SlackSimulator
from bot.simulators.slack.faults import ChannelLimit
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import (
    ConversationKey,
    CustomerRelay,
    DeskThread,
    MessageKind,
    RouteChoice,
)
from handoff.privacy.desk import RevealOffer
from handoff.privacy.forget import ForgetRequest
from handoff.teaching_model import TeachOffer
from tests.adapters.test_slack_adapter import (  # noqa: F401 - fixtures, requested by name
    AGENTS,
    MARIA,
    OTHER_CHANNEL,
    RecordingHandler,
    handler,
    handoffs,
    http,
    sim,
    slack_adapter,
)
from tests.adapters.test_slack_cards import make_ticket
from tests.adapters.test_slack_delivery import LATE, posted_ids

SLOW = PacingPolicy(per_second=0.01, burst=1, wait_up_to=0.25)  # a turn every 100 s


def message(n: int, text: str | None = None, **values: object) -> CustomerRelay:
    return CustomerRelay(
        kind=MessageKind.TEXT,
        text=text or f"message {n}",
        outbox_id=n,
        **values,  # type: ignore[arg-type]
    )


def sections(sim: SlackSimulator, thread: DeskThread) -> list[list[str]]:
    return [
        [b["text"]["text"] for b in reply.blocks or [] if b["type"] == "section"]
        for reply in sim.messages_in(thread.channel, thread_ts=thread.thread_ts)[1:]
    ]


async def test_several_messages_go_in_one_post_in_order(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    sim.limit_channel_posts(per_second=1.0, burst=5)
    slack = slack_adapter(sim, handler, http=http)
    await http.start()
    await slack.start()
    try:
        thread = await slack.open_handoff(make_ticket())
        batch = [message(1), message(2, "line one\nline two"), message(3, edited=True)]
        posted = await slack.relay_many(thread, batch, customer=MARIA)
    finally:
        await slack.stop()
    assert len(posted) == 3
    assert len(set(posted)) == 1  # one post shows the three
    assert sections(sim, thread) == [["message 1", "line one\nline two", "message 3"]]
    reply = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1]
    assert reply.metadata is not None
    assert reply.metadata["event_payload"] == {"outbox_id": 1, "part": 1, "through": 3}
    assert "(edited)" in str(reply.blocks)
    assert "Maria" in reply.text


async def test_a_far_turn_defers_and_is_kept_for_the_thread(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    slack = slack_adapter(sim, handler, http=http, pacer=MemoryPacer(SLOW))
    await http.start()
    await slack.start()
    try:
        thread = await slack.open_handoff(make_ticket())  # the channel's turn now
        with pytest.raises(DeliveryDeferred) as deferred:
            await slack.relay_to_agents(thread, message(1), customer=MARIA)
        first = deferred.value.retry_after
        assert 99.0 < first <= 100.0
        with pytest.raises(DeliveryDeferred) as again:
            await slack.relay_many(thread, [message(1), message(2)], customer=MARIA)
        assert again.value.retry_after <= first  # the same turn, not a later one
        other = DeskThread(channel=AGENTS, thread_ts="1700000000.999999")
        with pytest.raises(DeliveryDeferred) as behind:
            await slack.relay_to_agents(other, message(7), customer=MARIA)
        assert behind.value.retry_after > first + 99.0
    finally:
        await slack.stop()
    assert posted_ids(sim, thread) == []  # nothing was posted while waiting


async def test_a_merged_post_left_in_doubt_is_found_and_only_the_rest_goes_on(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    once = RetryPolicy(max_retries=0, backoff=0.01, jitter=0.0, timeout=1)
    slack = slack_adapter(sim, handler, http=http, retry=once)
    await http.start()
    await slack.start()
    try:
        thread = await slack.open_handoff(make_ticket())
        sim.slow_next("chat.postMessage", delay=LATE)
        with pytest.raises(DeliveryError):
            await slack.relay_many(thread, [message(1), message(2)], customer=MARIA)
        # Meanwhile message 3 arrived: the batch is longer, the post in doubt shows two.
        shown = await slack.relay_many(thread, [message(n) for n in (1, 2, 3)], customer=MARIA)
        assert len(shown) == 2
        rest = await slack.relay_many(thread, [message(3)], customer=MARIA)
    finally:
        await slack.stop()
    assert len(rest) == 1
    assert sections(sim, thread) == [["message 1", "message 2"], ["message 3"]]


def test_the_simulator_refuses_posts_beyond_a_channels_limit() -> None:
    now = [0.0]
    limit = ChannelLimit(per_second=1.0, burst=2, clock=lambda: now[0])
    assert [limit.take("C1"), limit.take("C1"), limit.take("C1")] == [None, None, 1]
    assert limit.take("C2") is None  # channels apart
    now[0] = 0.5
    assert limit.take("C1") == 1  # half a token back: a whole second asked, as Slack does
    now[0] = 1.0
    assert limit.take("C1") is None


async def test_a_routed_handoffs_card_goes_to_its_routes_channel(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    slack = slack_adapter(sim, handler, http=http, route_channels=frozenset({OTHER_CHANNEL}))
    await http.start()
    await slack.start()
    try:
        route = RouteChoice(name="billing", channel=OTHER_CHANNEL, why="intent billing_question")
        thread = await slack.open_handoff(replace(make_ticket(), route=route))
        await slack.relay_to_agents(thread, message(1), customer=MARIA)
    finally:
        await slack.stop()
    assert thread.channel == OTHER_CHANNEL
    assert [m.ts for m in sim.messages_in(OTHER_CHANNEL)] == [thread.thread_ts]
    assert sim.messages_in(AGENTS) == []
    assert sections(sim, thread) == [["message 1"]]


async def test_offers_and_requests_under_a_card_wait_for_the_channels_turn(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    # Tandem's pace a post every 50 ms; Slack's the same, with room for one early post (the
    # machine's jitter). Out of turn, six posts at once would get 429s; in turn, none.
    sim.limit_channel_posts(per_second=20.0, burst=2)
    pace = PacingPolicy(per_second=20.0, burst=1, wait_up_to=0.25)
    slack = slack_adapter(sim, handler, http=http, pacer=MemoryPacer(pace))
    await http.start()
    await slack.start()
    try:
        thread = await slack.open_handoff(make_ticket())
        await slack.offer_reveal(
            thread, RevealOffer(text="masked", button="Reveal", target="card:1")
        )
        offer = TeachOffer(
            message_id=1,
            text="hi",
            prompt="Teach",
            label="Intent",
            choices=("greet",),
            other="Other",
        )
        await slack.offer_teaching(thread, offer)
        await slack.post_note(thread, "a note")
        await slack.offer_retry(thread, "not delivered", "Retry", 7)
        await slack.ask_to_erase(
            ForgetRequest(
                customer_id=3,
                chat=ConversationKey(channel="telegram", chat_id="3"),
                text="erase?",
                button="Erase",
            )
        )
    finally:
        await slack.stop()
    posts = sim.calls_to("chat.postMessage")
    assert [call.status for call in posts] == [200] * 6  # no 429: none went out of turn
