"""The real Slack adapter (Bolt ``AsyncApp`` and slack_sdk ``AsyncWebClient``) against the
Slack simulator: HTTP mode through the project's own ``HttpServer`` on 127.0.0.1, and a
Socket Mode smoke test.

The event handler is a hand-written recording fake; nothing is mocked. Tests await what
they expect (a handled event, a recorded call) with a timeout instead of sleeping. To show
that something was *not* handled, a test sends a genuine event after it and waits for that:
requests are handled in order of arrival, so by then the earlier ones were dealt with.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack import (
    EVENTS_PATH,
    SLASH_COMMAND,
    RetryPolicy,
    SlackAdapter,
    SlackAdapterError,
)
from bot.adapters.slack.escape import escape_mrkdwn
from bot.adapters.slack.listeners import FAILED_REPLY, ON_IT
from bot.adapters.slack.teach_form import TEACH_SHORTCUT
from bot.adapters.slack.translate import (
    FILES_NOT_RELAYED,
    USAGE,
    BotIdentity,
    Ignored,
    ReplyDraft,
    classify_message,
    thread_of_permalink,
)
from bot.http import HealthReport, HttpServer
from bot.simulators.slack import (
    Signature,
    SlackEventSender,
    SlackSimulator,
    defaults,
    events,
)
from handoff.errors import DeliveryError, IntakeUnavailable
from handoff.model import (
    Agent,
    AgentAction,
    AgentCommand,
    AgentReply,
    Attachment,
    CardState,
    CardStatus,
    Customer,
    CustomerRelay,
    DeskThread,
    MessageKind,
)
from handoff.ports import AgentDesk, AgentEventHandler
from tests.adapters.test_slack_cards import HOSTILE, make_ticket, text_objects

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
AGENTS = defaults.AGENTS_CHANNEL_ID
OTHER_CHANNEL = "C0RANDOM"
ALICE = defaults.ALICE_ID
BOB = defaults.BOB_ID
FAST = RetryPolicy(max_retries=3, backoff=0.01, jitter=0.0)
WAIT = 5.0  # seconds a test waits for something it expects before failing
MARIA = Customer(user_id="4242", display_name="Maria González", username="maria_g")
ME = BotIdentity(
    user_id=defaults.BOT_USER_ID, bot_id=defaults.BOT_ID, team_id=defaults.TEAM_ID, team_url=""
)

Event = AgentReply | AgentAction
JsonDict = dict[str, Any]


class RecordingHandler:
    """An AgentEventHandler that records what it takes, in order. It can fail on a text
    (after recording it, as a bug would), be unavailable (raising IntakeUnavailable with
    nothing recorded, as the core does when its journal is down), or hold replies."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.failing_texts: set[str] = set()
        self.unavailable = False
        self.refused: list[Event] = []  # what came while unavailable
        self.gate: asyncio.Event | None = None  # when set: replies wait for it
        self.entered = asyncio.Event()  # a reply has reached the gate
        self._changed = asyncio.Event()

    async def agent_reply(self, reply: AgentReply) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        self._take(reply)
        if reply.text in self.failing_texts:
            raise RuntimeError(f"handler failed on {reply.text!r}")

    async def agent_action(self, action: AgentAction) -> None:
        self._take(action)

    def _take(self, event: Event) -> None:
        if self.unavailable:
            self.refused.append(event)
            raise IntakeUnavailable("the journal is not writable")
        self._record(event)

    async def wait_for(self, count: int) -> list[Event]:
        """Everything handled, once ``count`` events were (within :data:`WAIT` seconds)."""
        async with asyncio.timeout(WAIT):
            while len(self.events) < count:
                await self._changed.wait()
        return list(self.events)

    def _record(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = asyncio.Event()


class Handoffs:
    """The handoff-number lookup the adapter is given (``/tandem claim #42``)."""

    def __init__(self) -> None:
        self.threads: dict[int, DeskThread] = {}
        self.failing = False

    async def resolve(self, number: int) -> DeskThread | None:
        if self.failing:
            raise RuntimeError("the database is down")
        return self.threads.get(number)


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as simulator:
        simulator.add_channel(OTHER_CHANNEL, "random")
        yield simulator


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def handoffs() -> Handoffs:
    return Handoffs()


async def healthy() -> HealthReport:
    return HealthReport(healthy=True, checks={})


@pytest.fixture
async def http() -> AsyncIterator[HttpServer]:
    server = HttpServer(host="127.0.0.1", port=0, health=healthy)
    yield server
    await server.stop()


def slack_adapter(
    sim: SlackSimulator, handler: RecordingHandler, *, http: HttpServer | None, **options: Any
) -> SlackAdapter:
    """The adapter against ``sim``: in HTTP mode on ``http``, else in Socket Mode; with the
    :data:`FAST` retries unless ``options`` say otherwise."""
    mode: dict[str, Any] = (
        {"signing_secret": SIGNING_SECRET, "http": http}
        if http is not None
        else {"app_token": sim.app_token}
    )
    return SlackAdapter(
        bot_token=sim.bot_token,
        api_url=sim.api_url,
        agent_channel=AGENTS,
        handler=handler,
        **({"retry": FAST} | mode | options),
    )


@pytest.fixture
async def adapter(
    sim: SlackSimulator, handler: RecordingHandler, handoffs: Handoffs, http: HttpServer
) -> AsyncIterator[SlackAdapter]:
    slack = slack_adapter(sim, handler, http=http)
    await http.start()
    await slack.start(resolve_handoff_number=handoffs.resolve)
    yield slack
    await slack.stop()


@pytest.fixture
def sender(sim: SlackSimulator, http: HttpServer, adapter: SlackAdapter) -> SlackEventSender:
    return SlackEventSender(
        endpoint_url=f"http://127.0.0.1:{http.port}/slack/events",
        signing_secret=SIGNING_SECRET,
        response_url_base=sim.response_url_base,
    )


@pytest.fixture
async def thread(adapter: SlackAdapter) -> DeskThread:
    """A handoff thread: the card of handoff 42, posted by the adapter."""
    return await adapter.open_handoff(make_ticket())


def reply_event(thread: DeskThread, text: str, *, user: str = ALICE, **fields: Any) -> JsonDict:
    event = events.user_message_event(
        channel=thread.channel, user=user, text=text, thread_ts=thread.thread_ts
    )
    return {**event, **fields}


async def deliver(sender: SlackEventSender, event: JsonDict, **options: Any) -> None:
    response = await sender.event_callback(event, **options)
    assert response.status == 200, response.body


def mrkdwn_surfaces(text: str, blocks: list[JsonDict] | None) -> list[str]:
    objects = [obj["text"] for obj in text_objects(blocks or []) if obj["type"] == "mrkdwn"]
    return [text, *objects]


def ports_of(
    adapter: SlackAdapter, handler: RecordingHandler
) -> tuple[AgentDesk, AgentEventHandler]:
    """Never called: mypy checks here that the adapter and the fake implement the ports."""
    return adapter, handler


# --- the card -------------------------------------------------------------------------------


async def test_open_handoff_posts_one_card_and_returns_its_thread(
    sim: SlackSimulator, adapter: SlackAdapter
) -> None:
    thread = await adapter.open_handoff(make_ticket())

    (call,) = sim.calls_to("chat.postMessage")
    (card,) = sim.messages_in(AGENTS)
    assert thread == DeskThread(channel=AGENTS, thread_ts=card.ts)
    assert call.params["unfurl_links"] is False
    shown = "\n".join(obj["text"] for obj in text_objects(card.blocks))
    for words in (
        "Handoff #42: Maria González",
        "@maria_g",
        "The customer seems frustrated.",
        "“where is my parcel??” → order_status 41%, greet 12%",
        "0.82 of 1",
        "Hello! How can I help?",
        "Waiting for an agent",
    ):
        assert words in shown
    actions = [b for b in card.blocks or [] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "tandem_claim",
        "tandem_return",
        "tandem_close",
        "tandem_retract",
    ]
    assert card.text.startswith("Handoff #42: Maria González")


async def test_show_card_updates_the_parent_through_every_state(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    alice = Agent(user_id=ALICE, display_name="Alice")
    ticket = make_ticket()

    await adapter.show_card(
        thread, CardState(ticket=ticket, status=CardStatus.CLAIMED, owner=alice)
    )
    (claimed,) = sim.messages_in(AGENTS)
    await adapter.show_card(
        thread,
        CardState(ticket=ticket, status=CardStatus.CLOSED, owner=alice, changed_by=alice, rating=4),
    )
    (closed,) = sim.messages_in(AGENTS)

    assert [c.params["ts"] for c in sim.calls_to("chat.update")] == [thread.thread_ts] * 2
    assert f"Claimed by <@{ALICE}>" in str(claimed.blocks)
    assert any(b["type"] == "actions" for b in claimed.blocks or [])
    assert closed.ts == thread.thread_ts
    assert f"Closed by <@{ALICE}> · Rating: ★★★★☆ (4/5)" in str(closed.blocks)
    assert not any(b["type"] == "actions" for b in closed.blocks or [])


# --- customers' messages, notes, private hints ---------------------------------------------


async def test_a_customer_message_arrives_in_the_thread_unable_to_ping_or_link(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    ts = await adapter.relay_to_agents(
        thread, CustomerRelay(kind=MessageKind.TEXT, text=HOSTILE), customer=MARIA
    )

    (call,) = sim.calls_to("chat.postMessage")[1:]
    _, posted = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)
    assert posted.ts == ts
    assert call.params["thread_ts"] == thread.thread_ts
    assert call.params["unfurl_links"] is False
    assert call.params["unfurl_media"] is False
    # The words, verbatim, in plain text (which Slack never parses) ...
    section = posted.blocks[-1] if posted.blocks else {}
    assert section["text"] == {"type": "plain_text", "text": HOSTILE, "emoji": False}
    # ... and nowhere Slack parses markup can they mention, link or ping.
    for surface in mrkdwn_surfaces(posted.text, posted.blocks):
        assert "<!channel>" not in surface
        assert "<@U0BOSS>" not in surface
        assert "<http://evil.example|click>" not in surface
        assert "@here" not in surface
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; @\u200dhere &lt;http://evil.example|click&gt;" in (
        posted.text
    )


async def test_a_photo_is_described_with_its_caption(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    photo = CustomerRelay(
        kind=MessageKind.PHOTO,
        text="the damage",
        attachment=Attachment(file_id="AgAD", file_name="box.jpg", size=204_800),
    )

    await adapter.relay_to_agents(thread, photo, customer=MARIA)

    _, posted = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)
    shown = [obj["text"] for obj in text_objects(posted.blocks or [])]
    assert "📎 Photo from the customer (box.jpg, 200.0 KB) — not shown here" in shown
    assert "the damage" in shown


PHOTO_BYTES = b"\x89PNG\r\n\x1a\n a photo of a dented box"


async def test_a_photo_with_its_bytes_is_uploaded_into_the_thread_with_its_caption(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    photo = CustomerRelay(
        kind=MessageKind.PHOTO,
        text=f"the damage {HOSTILE}",
        attachment=Attachment(file_id="AgAD", size=len(PHOTO_BYTES)),
        content=PHOTO_BYTES,
    )

    file_id = await adapter.relay_to_agents(thread, photo, customer=MARIA)

    (uploaded,) = sim.files
    assert uploaded.id == file_id
    assert (uploaded.name, uploaded.channels, uploaded.thread_ts) == (
        "photo.jpg",
        (AGENTS,),
        thread.thread_ts,
    )
    assert uploaded.size == len(PHOTO_BYTES)
    (completed,) = sim.calls_to("files.completeUploadExternal")
    comment = completed.params["initial_comment"]
    assert comment == escape_mrkdwn(f"👤 Maria González (@maria_g): the damage {HOSTILE}")
    assert "the damage &lt;!channel&gt; &lt;@U0BOSS&gt;" in comment
    for unsafe in ("<!channel>", "<@U0BOSS>", "<http://evil.example|click>", "@here"):
        assert unsafe not in comment
    assert len(sim.calls_to("chat.postMessage")) == 1  # the card: no note besides the file


async def test_a_document_keeps_its_name_without_disguises_and_is_labelled_when_bare(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    document = CustomerRelay(
        kind=MessageKind.DOCUMENT,
        text=None,
        attachment=Attachment(file_id="BQAC", file_name="invoice\u202efdp.exe"),
        content=b"%PDF-1.4",
        edited=True,
    )

    await adapter.relay_to_agents(thread, document, customer=MARIA)

    (uploaded,) = sim.files
    assert (uploaded.name, uploaded.title) == ("invoicefdp.exe", "invoicefdp.exe")
    (completed,) = sim.calls_to("files.completeUploadExternal")
    assert completed.params["initial_comment"] == escape_mrkdwn(
        "(edited) 👤 Maria González (@maria_g): 📎 Document"
    )


async def test_an_upload_is_retried_like_any_call(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("files.completeUploadExternal", status=429, retry_after=0)
    photo = CustomerRelay(
        kind=MessageKind.PHOTO, text="again", attachment=Attachment("AgAD"), content=PHOTO_BYTES
    )

    await adapter.relay_to_agents(thread, photo, customer=MARIA)

    statuses = [c.status for c in sim.calls_to("files.completeUploadExternal")]
    assert statuses == [429, 200]
    assert len(sim.files) == 1


async def test_a_refused_upload_falls_back_to_the_note(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    # An app installed before files:write was added to its manifest.
    sim.fail_next("files.getUploadURLExternal", error="missing_scope")
    photo = CustomerRelay(
        kind=MessageKind.PHOTO,
        text="the damage",
        attachment=Attachment(file_id="AgAD"),
        content=PHOTO_BYTES,
    )

    await adapter.relay_to_agents(thread, photo, customer=MARIA)

    assert sim.files == []
    _, posted = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)
    shown = [obj["text"] for obj in text_objects(posted.blocks or [])]
    assert "📎 Photo from the customer — not shown here" in shown
    assert "the damage" in shown


async def test_notes_go_in_the_thread_and_hints_to_one_agent(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    await adapter.post_note(thread, "Alice claimed this conversation")
    await adapter.tell_agent(
        thread, Agent(user_id=BOB, display_name="Bob"), "Alice already has it <!here>"
    )

    _, note = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)
    (hint,) = sim.ephemerals
    assert note.text == "Alice claimed this conversation"
    assert (hint.user, hint.thread_ts, hint.channel) == (BOB, thread.thread_ts, AGENTS)
    assert hint.text == "Alice already has it &lt;!here&gt;"


# --- outages and refusals ------------------------------------------------------------------


async def test_a_rate_limit_is_waited_out_and_the_message_posted_once(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", status=429, retry_after=0)

    await adapter.relay_to_agents(
        thread, CustomerRelay(kind=MessageKind.TEXT, text="hello?"), customer=MARIA
    )

    statuses = [(c.status, c.error) for c in sim.calls_to("chat.postMessage")[1:]]
    assert statuses == [(429, "ratelimited"), (200, None)]
    replies = sim.messages_in(AGENTS, thread_ts=thread.thread_ts)[1:]
    assert [r.blocks[-1]["text"]["text"] for r in replies if r.blocks] == ["hello?"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_retried(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread, status: int
) -> None:
    # An error code Tandem does not know as transient: the status alone must cause the retry
    # (a load balancer's 502 page carries no Slack error at all).
    sim.fail_next("chat.postMessage", status=status, error="upstream_trouble", times=2)

    await adapter.post_note(thread, "still here")

    assert [c.status for c in sim.calls_to("chat.postMessage")[1:]] == [status, status, 200]
    assert len(sim.messages_in(AGENTS, thread_ts=thread.thread_ts)) == 2


async def test_an_outage_longer_than_the_retries_is_a_delivery_error(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.update", status=503, times=10)

    with pytest.raises(DeliveryError, match=r"service_unavailable \(HTTP 503\)"):
        await adapter.show_card(thread, CardState(ticket=make_ticket(), status=CardStatus.WAITING))

    assert len(sim.calls_to("chat.update")) == 1 + FAST.max_retries


async def test_a_refusal_is_a_delivery_error_at_once(
    sim: SlackSimulator, adapter: SlackAdapter
) -> None:
    gone = DeskThread(channel="C0NOWHERE", thread_ts="1700000000.000100")

    with pytest.raises(DeliveryError, match=r"channel_not_found \(HTTP 200\)") as refused:
        await adapter.relay_to_agents(
            gone, CustomerRelay(kind=MessageKind.TEXT, text="hi"), customer=MARIA
        )

    assert len(sim.calls_to("chat.postMessage")) == 1
    assert sim.bot_token not in str(refused.value)


async def test_a_transient_error_answer_is_retried(
    sim: SlackSimulator, adapter: SlackAdapter, thread: DeskThread
) -> None:
    sim.fail_next("chat.postMessage", error="internal_error")

    await adapter.post_note(thread, "once")

    assert [c.error for c in sim.calls_to("chat.postMessage")[1:]] == ["internal_error", None]


# --- agents' replies -----------------------------------------------------------------------


async def test_an_agents_reply_in_the_thread_reaches_the_handler_as_plain_text(
    sim: SlackSimulator,
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
) -> None:
    event = reply_event(thread, "Hi! a &lt; b, ask <@U0AGENT2> or see <https://x.example/faq|FAQ>")

    await deliver(sender, event)
    (reply,) = await handler.wait_for(1)

    assert reply == AgentReply(
        thread=thread,
        agent=Agent(user_id=ALICE, display_name="Alice"),
        text="Hi! a < b, ask @Bob or see FAQ (https://x.example/faq)",
        message_ts=event["ts"],
    )


async def test_display_names_fall_back_and_are_looked_up_once(
    sim: SlackSimulator,
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
) -> None:
    sim.add_user("U0REALNAME", "carol", real_name="Carol Real", display_name="")
    sim.add_user("U0HANDLE", "dave", real_name="", display_name="")

    await deliver(sender, reply_event(thread, "one", user="U0REALNAME"))
    await deliver(sender, reply_event(thread, "two", user="U0HANDLE"))
    await deliver(sender, reply_event(thread, "three", user="U0REALNAME"))
    handled = await handler.wait_for(3)

    assert [(e.agent.display_name, e.text) for e in handled if isinstance(e, AgentReply)] == [
        ("Carol Real", "one"),
        ("dave", "two"),
        ("Carol Real", "three"),
    ]
    looked_up = [c.params["user"] for c in sim.calls_to("users.info")]
    assert sorted(looked_up) == ["U0HANDLE", "U0REALNAME"]


def ignored_events(thread: DeskThread) -> dict[str, JsonDict]:
    """Messages that must never reach a customer, by what they are."""
    note = reply_event(thread, "note: then edited")
    earlier = reply_event(thread, "a reply")
    unfurled = {
        **events.message_changed_event(earlier, text="a reply"),
        "message": {**earlier, "attachments": [{"title": "a preview"}]},
    }
    join = reply_event(thread, "<@U0AGENT2> has joined the channel", subtype="channel_join")
    return {
        "Tandem's own post": events.bot_message_event(
            channel=AGENTS, bot_id=defaults.BOT_ID, text="card", thread_ts=thread.thread_ts
        ),
        "Tandem's own user": reply_event(thread, "from the bot", user=defaults.BOT_USER_ID),
        "another bot": events.bot_message_event(
            channel=AGENTS, bot_id="B0OTHER", text="beep", thread_ts=thread.thread_ts
        ),
        "an edit of a note": events.message_changed_event(note, text="note: edited"),
        "a deleted note": events.message_deleted_event(note),
        "a change that is no edit": unfurled,
        "a thread broadcast": events.thread_broadcast_event(
            channel=AGENTS, user=ALICE, text="to all", thread_ts=thread.thread_ts
        ),
        "a channel join": join,
        "a top-level message": events.user_message_event(channel=AGENTS, user=ALICE, text="hi"),
        "another channel": events.user_message_event(
            channel=OTHER_CHANNEL, user=ALICE, text="hi", thread_ts=thread.thread_ts
        ),
        "a note": reply_event(thread, "  NOTE: she was rude last time"),
        "the thread parent": {**reply_event(thread, "x"), "ts": thread.thread_ts},
    }


async def test_what_is_not_an_agents_reply_never_reaches_the_handler(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    for event in ignored_events(thread).values():
        await deliver(sender, event)
    await deliver(sender, reply_event(thread, "the genuine reply"))

    (only,) = await handler.wait_for(1)
    assert isinstance(only, AgentReply)
    assert only.text == "the genuine reply"


@pytest.mark.parametrize("case", sorted(ignored_events(DeskThread(AGENTS, "1.000001"))))
def test_each_kind_of_ignored_message_is_told_apart(case: str) -> None:
    thread = DeskThread(AGENTS, "1700000000.000100")
    event = ignored_events(thread)[case]

    outcome = classify_message(event, channel=AGENTS, me=ME, note_prefix="note:")

    assert isinstance(outcome, Ignored), outcome


def test_an_edit_and_a_deletion_name_the_reply_they_change() -> None:
    thread = DeskThread(AGENTS, "1700000000.000100")
    earlier = reply_event(thread, "Your refund is 50 EUR.")

    edited = classify_message(
        events.message_changed_event(earlier, text="Your refund is 40 EUR.", ts="1700000009.1"),
        channel=AGENTS,
        me=ME,
        note_prefix="note:",
    )
    deleted = classify_message(
        events.message_deleted_event(earlier, ts="1700000009.2"),
        channel=AGENTS,
        me=ME,
        note_prefix="note:",
    )

    assert isinstance(edited, ReplyDraft)
    assert (edited.text, edited.ts, edited.revises, edited.deleted) == (
        "Your refund is 40 EUR.",
        "1700000009.1",
        earlier["ts"],
        False,
    )
    assert isinstance(deleted, ReplyDraft)
    assert (deleted.ts, deleted.revises, deleted.deleted) == ("1700000009.2", earlier["ts"], True)


def test_a_reply_is_told_from_a_note_by_its_prefix_only() -> None:
    thread = DeskThread(AGENTS, "1700000000.000100")
    reply = reply_event(thread, "a notebook is on its way")

    outcome = classify_message(reply, channel=AGENTS, me=ME, note_prefix="note:")

    assert isinstance(outcome, ReplyDraft)
    assert outcome.text == "a notebook is on its way"
    custom = classify_message(
        reply_event(thread, "// internal"), channel=AGENTS, me=ME, note_prefix="//"
    )
    assert isinstance(custom, Ignored)


async def test_a_redelivered_event_is_handled_once(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    event = reply_event(thread, "only once, please")

    await deliver(sender, event, event_id="Ev0REDELIVER")
    await deliver(sender, event, event_id="Ev0REDELIVER", retry_num=1, retry_reason="http_timeout")
    await deliver(sender, event, event_id="Ev0REDELIVER", retry_num=2, retry_reason="http_timeout")
    await deliver(sender, reply_event(thread, "next"))
    handled = await handler.wait_for(2)

    assert [e.text for e in handled if isinstance(e, AgentReply)] == ["only once, please", "next"]


async def test_a_reply_the_handler_fails_on_is_refused_and_its_author_told_at_the_last_retry(
    sim: SlackSimulator,
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.failing_texts.add("boom")
    event = reply_event(thread, "boom")

    answers = [await sender.event_callback(event, event_id="Ev0BOOM")]
    for retry in (1, 2, 3):
        answers.append(await sender.event_callback(event, event_id="Ev0BOOM", retry_num=retry))
    ephemeral = await sim.wait_for_call("chat.postEphemeral")

    # Not taken: Slack hears so each time, and offers the event again.
    assert [answer.status for answer in answers] == [503] * 4
    assert len(handler.events) == 4
    (told,) = sim.calls_to("chat.postEphemeral")  # once, after the last of Slack's retries
    assert told is ephemeral
    assert ephemeral.params["user"] == ALICE
    assert ephemeral.params["thread_ts"] == thread.thread_ts
    assert ephemeral.params["text"] == FAILED_REPLY
    assert "handler failed on 'boom'" in caplog.text  # logged with its stack


async def test_an_agent_sending_a_file_is_told_it_does_not_reach_the_customer(
    sim: SlackSimulator,
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
) -> None:
    await deliver(sender, reply_event(thread, "see attached", subtype="file_share"))
    hint = await sim.wait_for_call("chat.postEphemeral")

    assert hint.params["text"] == FILES_NOT_RELAYED
    assert hint.params["user"] == ALICE
    assert handler.events == []


# --- card buttons and /tandem --------------------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "command"),
    [
        ("tandem_claim", AgentCommand.CLAIM),
        ("tandem_return", AgentCommand.RETURN),
        ("tandem_close", AgentCommand.CLOSE),
    ],
)
async def test_card_buttons_become_actions_on_the_thread(
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
    action_id: str,
    command: AgentCommand,
) -> None:
    response = await sender.block_action(
        action_id, "42", user=BOB, channel=AGENTS, message_ts=thread.thread_ts
    )
    (action,) = await handler.wait_for(1)

    assert response.status == 200
    assert action == AgentAction(
        thread=thread, agent=Agent(user_id=BOB, display_name="Bob"), command=command
    )


async def test_a_card_button_outside_the_agent_channel_is_ignored(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    stray = await sender.block_action(
        "tandem_claim", "42", user=BOB, channel=OTHER_CHANNEL, message_ts=thread.thread_ts
    )
    await sender.block_action(
        "tandem_close", "42", user=BOB, channel=AGENTS, message_ts=thread.thread_ts
    )

    (action,) = await handler.wait_for(1)
    assert stray.status == 200
    assert isinstance(action, AgentAction)
    assert action.command is AgentCommand.CLOSE


@pytest.mark.parametrize(
    ("link", "thread_ts"),
    [
        (f"https://tandem-sim.slack.com/archives/{AGENTS}/p1700000000000100", "1700000000.000100"),
        (
            f"<https://tandem-sim.slack.com/archives/{AGENTS}/p1700000099000200"
            f"?thread_ts=1700000000.000100&amp;cid={AGENTS}>",
            "1700000000.000100",
        ),
    ],
)
async def test_a_command_names_its_thread_by_link(
    handler: RecordingHandler, sender: SlackEventSender, link: str, thread_ts: str
) -> None:
    response = await sender.slash_command("/tandem", f"claim {link}", user=ALICE, channel=AGENTS)
    (action,) = await handler.wait_for(1)

    assert response.status == 200
    assert response.json() == {"text": ON_IT, "response_type": "ephemeral"}
    assert action == AgentAction(
        thread=DeskThread(AGENTS, thread_ts),
        agent=Agent(user_id=ALICE, display_name="Alice"),
        command=AgentCommand.CLAIM,
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("close #42", AgentCommand.CLOSE),
        ("STATUS 42", AgentCommand.STATUS),
        ("release #42", AgentCommand.RELEASE),
        ("return 42", AgentCommand.RETURN),
    ],
)
async def test_a_command_names_its_thread_by_handoff_number(
    handler: RecordingHandler,
    handoffs: Handoffs,
    sender: SlackEventSender,
    thread: DeskThread,
    text: str,
    command: AgentCommand,
) -> None:
    handoffs.threads[42] = thread

    response = await sender.slash_command("/tandem", text, user=BOB, channel=AGENTS)
    (action,) = await handler.wait_for(1)

    assert response.json()["text"] == ON_IT
    assert action == AgentAction(
        thread=thread, agent=Agent(user_id=BOB, display_name="Bob"), command=command
    )


@pytest.mark.parametrize(
    ("text", "channel", "answer"),
    [
        ("", AGENTS, USAGE),
        ("help", AGENTS, USAGE),
        ("dance #42", AGENTS, "I don't know `dance`."),
        ("claim", AGENTS, "Which conversation?"),
        ("claim #42 now", AGENTS, "Which conversation?"),
        ("claim #7", AGENTS, "There is no handoff #7."),
        ("claim nonsense", AGENTS, "`nonsense` is neither a handoff number nor a link."),
        (
            f"claim https://x.slack.com/archives/{OTHER_CHANNEL}/p1700000000000100",
            AGENTS,
            "That link is not to a handoff",
        ),
        ("claim #42", OTHER_CHANNEL, f"Please use `/tandem` in <#{AGENTS}>"),
    ],
)
async def test_bad_commands_get_a_usage_line_and_do_nothing(
    handler: RecordingHandler,
    handoffs: Handoffs,
    sender: SlackEventSender,
    thread: DeskThread,
    text: str,
    channel: str,
    answer: str,
) -> None:
    handoffs.threads[42] = thread

    response = await sender.slash_command("/tandem", text, user=ALICE, channel=channel)
    await sender.slash_command("/tandem", "status #42", user=ALICE, channel=AGENTS)
    (only,) = await handler.wait_for(1)

    assert response.status == 200
    assert answer in response.json()["text"]
    assert response.json()["response_type"] == "ephemeral"
    assert isinstance(only, AgentAction)
    assert only.command is AgentCommand.STATUS


async def test_a_failing_lookup_is_answered_not_raised(
    handler: RecordingHandler, handoffs: Handoffs, sender: SlackEventSender
) -> None:
    handoffs.failing = True

    response = await sender.slash_command("/tandem", "claim #42", user=ALICE, channel=AGENTS)

    assert response.status == 200
    assert "could not look up handoff #42" in response.json()["text"]
    assert handler.events == []


# --- what Slack itself does ----------------------------------------------------------------


@pytest.mark.parametrize("signature", [Signature.WRONG, Signature.MISSING, Signature.STALE])
async def test_requests_not_signed_by_slack_are_refused_and_never_handled(
    handler: RecordingHandler,
    handoffs: Handoffs,
    sender: SlackEventSender,
    thread: DeskThread,
    signature: Signature,
) -> None:
    handoffs.threads[42] = thread

    forged = [
        await sender.event_callback(reply_event(thread, "forged"), signature=signature),
        await sender.block_action(
            "tandem_close",
            "42",
            user=BOB,
            channel=AGENTS,
            message_ts=thread.thread_ts,
            signature=signature,
        ),
        await sender.slash_command(
            "/tandem", "close #42", user=BOB, channel=AGENTS, signature=signature
        ),
    ]
    await deliver(sender, reply_event(thread, "genuine"))

    (only,) = await handler.wait_for(1)
    assert [response.status for response in forged] == [401, 401, 401]
    assert isinstance(only, AgentReply)
    assert only.text == "genuine"


async def test_url_verification_is_answered(sender: SlackEventSender) -> None:
    response = await sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7")

    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7"}


async def test_events_are_refused_until_started_and_after_stopping(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    slack = slack_adapter(sim, handler, http=http)
    await http.start()
    sender = SlackEventSender(
        endpoint_url=f"http://127.0.0.1:{http.port}/slack/events", signing_secret=SIGNING_SECRET
    )
    thread = DeskThread(AGENTS, "1700000000.000100")

    before = await sender.event_callback(reply_event(thread, "too early"))
    await slack.start()
    during = await sender.event_callback(reply_event(thread, "on time"))
    await handler.wait_for(1)
    await slack.stop()
    after = await sender.event_callback(reply_event(thread, "too late"))

    assert [before.status, during.status, after.status] == [503, 200, 503]
    assert [e.text for e in handler.events if isinstance(e, AgentReply)] == ["on time"]


async def test_stop_lets_a_reply_being_handled_finish(
    handler: RecordingHandler, adapter: SlackAdapter, sender: SlackEventSender, thread: DeskThread
) -> None:
    handler.gate = asyncio.Event()
    delivering = asyncio.create_task(deliver(sender, reply_event(thread, "in flight")))
    await asyncio.wait_for(handler.entered.wait(), WAIT)

    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0)  # let stop() start waiting; it must not finish on its own
    assert not stopping.done()
    handler.gate.set()
    await asyncio.wait_for(stopping, WAIT)
    await asyncio.wait_for(delivering, WAIT)  # answered 200: taken before the answer

    assert [e.text for e in handler.events if isinstance(e, AgentReply)] == ["in flight"]


# --- start-up ------------------------------------------------------------------------------


async def test_a_refused_bot_token_fails_start_with_a_clear_error(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> None:
    token = "xoxb-0000-not-the-right-token"
    slack = SlackAdapter(
        bot_token=token,
        api_url=sim.api_url,
        agent_channel=AGENTS,
        handler=handler,
        signing_secret=SIGNING_SECRET,
        http=http,
        retry=FAST,
    )

    with pytest.raises(SlackAdapterError, match=r"Slack refused SLACK_BOT_TOKEN.*invalid_auth"):
        await slack.start()

    assert len(sim.calls_to("auth.test")) == 1  # a refusal is not retried


async def test_an_unreachable_slack_fails_start_after_the_retries(
    handler: RecordingHandler,
) -> None:
    slack = SlackAdapter(
        bot_token=defaults.BOT_TOKEN,
        api_url="http://127.0.0.1:9/api/",  # discard port: nothing listens
        agent_channel=AGENTS,
        handler=handler,
        app_token=defaults.APP_TOKEN,
        retry=FAST,
    )

    with pytest.raises(SlackAdapterError, match="cannot reach the Slack Web API"):
        await slack.start()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"agent_channel": "#support"}, "must be a channel ID"),
        ({"app_token": None, "signing_secret": None}, "app token .* or a signing secret"),
        ({"app_token": None, "signing_secret": "s3cret", "http": None}, "HTTP server"),
    ],
)
def test_settings_the_adapter_cannot_work_with_are_refused(
    handler: RecordingHandler, options: dict[str, Any], problem: str
) -> None:
    arguments: dict[str, Any] = {
        "bot_token": defaults.BOT_TOKEN,
        "api_url": "http://127.0.0.1:9/api/",
        "agent_channel": AGENTS,
        "handler": handler,
        "app_token": defaults.APP_TOKEN,
    }
    with pytest.raises(ValueError, match=problem):
        SlackAdapter(**(arguments | options))


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://a.slack.com/archives/C1/p1700000000000100",
            DeskThread("C1", "1700000000.000100"),
        ),
        ("https://a.slack.com/archives/C1/p1700000000000100?thread_ts=bad", None),
        ("https://a.slack.com/archives/C1/", None),
        ("http://evil.example/archives", None),
    ],
)
def test_permalinks_are_read_strictly(link: str, expected: DeskThread | None) -> None:
    assert thread_of_permalink(link) == expected


# --- Socket Mode ---------------------------------------------------------------------------


async def test_socket_mode_delivers_replies_and_commands(
    sim: SlackSimulator, handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handoffs = Handoffs()
    slack = slack_adapter(sim, handler, http=None)
    await slack.start(resolve_handoff_number=handoffs.resolve)
    try:
        thread = await slack.open_handoff(make_ticket())
        handoffs.threads[42] = thread
        event = reply_event(thread, "over the socket")
        await sim.send_socket_mode("events_api", events.event_callback_body(event))
        form = events.slash_command_form(
            "/tandem", "claim #42", user=BOB, channel=AGENTS, response_url="https://unused.invalid"
        )
        command_ack = await sim.send_socket_mode("slash_commands", dict(form))
        handled = await handler.wait_for(2)
    finally:
        await slack.stop()

    assert handled == [
        AgentReply(
            thread=thread,
            agent=Agent(user_id=ALICE, display_name="Alice"),
            text="over the socket",
            message_ts=event["ts"],
        ),
        AgentAction(
            thread=thread, agent=Agent(user_id=BOB, display_name="Bob"), command=AgentCommand.CLAIM
        ),
    ]
    assert command_ack["payload"] == {"text": ON_IT, "response_type": "ephemeral"}
    assert len(sim.calls_to("apps.connections.open")) == 1
    assert sim.bot_token not in caplog.text
    assert sim.app_token not in caplog.text


async def test_a_refused_app_token_fails_start_with_a_clear_error(
    sim: SlackSimulator, handler: RecordingHandler
) -> None:
    slack = slack_adapter(sim, handler, http=None, app_token="xapp-1-A0-not-the-right-token")

    with pytest.raises(SlackAdapterError, match=r"Slack refused SLACK_APP_TOKEN.*invalid_auth"):
        await slack.start()


# --- the app manifest ----------------------------------------------------------------------

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-manifest.yml"


def test_the_manifest_asks_for_exactly_what_the_adapter_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))

    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"] == "Tandem"
    assert manifest["features"]["bot_user"]["display_name"] == "Tandem"
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "users:read",
        "channels:history",
        "groups:history",
        "commands",
        "files:write",
        "usergroups:read",  # the members of a user group in agents.approvers
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["message.channels", "message.groups"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert "#42" in command["usage_hint"]
    (shortcut,) = manifest["features"]["shortcuts"]  # on a customer's message: teach the bot
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", TEACH_SHORTCUT)
    # HTTP mode: the three request URLs (events, interactivity, the command), commented out
    # for Socket Mode, all name the adapter's one route.
    request_urls = re.findall(
        r"^\s*# (?:url|request_url): https://YOUR-HOST(\S+)$",
        MANIFEST.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert request_urls == [EVENTS_PATH] * 3
