"""Input from outside at ``/slack/events``: raw aiohttp requests, signed and unsigned.

Nothing is parsed before the signature is checked: unsigned or wrongly signed requests get
401, signed but malformed ones 400 with a short reason; never a 500, never a traceback in
the log, and nothing reaches the handler. A signed press or command replayed within the
five minutes its signature stays valid is not applied again.
"""

# ruff: noqa: F811 - the adapter tests' fixtures are imported, then requested by name

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.listeners import ON_IT
from bot.adapters.slack.signature import SignatureCheck
from bot.http import HttpServer
from bot.simulators.slack import SlackEventSender, sign
from handoff.model import AgentAction, AgentCommand, AgentReply, DeskThread
from tests.adapters.test_slack_adapter import (  # noqa: F401 - fixtures, requested by name
    AGENTS,
    ALICE,
    BOB,
    SIGNING_SECRET,
    RecordingHandler,
    adapter,
    deliver,
    handler,
    handoffs,
    http,
    reply_event,
    sender,
    sim,
    thread,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Bodies Slack never sends, with the content type they claim.
GARBAGE = {
    "a JSON array": (b"[]", JSON),
    "cut-off JSON": (b"{", JSON),
    "a broken payload": (b"payload={x", FORM),
    "a payload that is an array": (b"payload=%5B%5D", FORM),
    "a payload that is a string": (b'payload="x"', FORM),
    "JSON null": (b"null", JSON),
    "a number": (b"42", JSON),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "not UTF-8": (b'{"type": "\xff\xfe"}', JSON),
    "an event that is a string": (b'{"type": "event_callback", "event": "x"}', JSON),
    "a team that is a number": (
        b'{"type": "event_callback", "event_id": "Ev1", "team": 5, "event": {"type": "message"}}',
        JSON,
    ),
    "actions that are not a list": (
        b'payload={"type": "block_actions", "actions": 5, "user": "U1"}',
        FORM,
    ),
    "an edit whose message is a string": (
        b'{"type": "event_callback", "event_id": "Ev1", '
        b'"event": {"type": "message", "channel_type": "im", "message": "x"}}',
        JSON,
    ),
    "an action without an id": (
        b'payload={"type": "block_actions", "actions": [{}], "user": {"id": "U1"}}',
        FORM,
    ),
    "a submission without a view": (b'payload={"type": "view_submission", "view": 5}', FORM),
    "a kind Tandem does not take": (b'payload={"type": "shortcut", "callback_id": "x"}', FORM),
    "a message shortcut on a string": (
        b'payload={"type": "message_action", "callback_id": "tandem_teach_message", '
        b'"trigger_id": "1", "user": {"id": "U1"}, "channel": {"id": "C1"}, "message": "x"}',
        FORM,
    ),
    "a command sent as JSON": (b'{"command": {"x": 1}, "text": ["claim"]}', JSON),
    "XML": (b"<event/>", "text/xml"),
    "no content type": (b'{"type": "event_callback"}', ""),
    "a multipart form": (b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x"),
}


@pytest.fixture
async def post(http: HttpServer, adapter: SlackAdapter) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session to the running adapter's endpoint."""
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{http.port}") as session:
        yield session


def signed(body: bytes, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(secret, timestamp=timestamp, body=body),
    }


async def answer(
    session: aiohttp.ClientSession, body: bytes, content_type: str, headers: dict[str, str]
) -> tuple[int, str]:
    sent = {"Content-Type": content_type, **headers} if content_type else headers
    async with session.post("/slack/events", data=body, headers=sent) as response:
        return response.status, await response.text()


def replies(handler: RecordingHandler) -> list[str]:
    return [event.text for event in handler.events if isinstance(event, AgentReply)]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


@pytest.mark.parametrize("case", sorted(GARBAGE))
async def test_garbage_gets_401_unsigned_and_400_signed_and_no_traceback(
    post: aiohttp.ClientSession,
    handler: RecordingHandler,
    sender: SlackEventSender,
    thread: DeskThread,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    body, content_type = GARBAGE[case]

    unsigned = await answer(post, body, content_type, {})
    forged = await answer(post, body, content_type, signed(body, secret="not-the-secret"))
    malformed = await answer(post, body, content_type, signed(body))
    await deliver(sender, reply_event(thread, "still listening"))

    assert unsigned[0] == forged[0] == 401
    assert malformed[0] == 400
    assert 0 < len(malformed[1]) < 80  # one short line, not a stack or an echo of the body
    assert tracebacks(caplog) == []
    assert replies(handler) == ["still listening"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "not a number", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v1=Ünï"},
    ],
)
async def test_headers_that_cannot_be_a_signature_get_401(
    post: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, headers: dict[str, str]
) -> None:
    status, _ = await answer(post, b"{}", JSON, headers)

    assert status == 401
    assert tracebacks(caplog) == []


async def test_a_body_signed_six_minutes_ago_is_refused(post: aiohttp.ClientSession) -> None:
    body = b'{"type": "url_verification", "challenge": "c"}'

    stale = await answer(post, body, JSON, signed(body, age=6 * 60))
    fresh = await answer(post, body, JSON, signed(body))

    assert (stale[0], fresh[0]) == (401, 200)


@pytest.mark.parametrize("signature", ["unsigned", "signed"])
async def test_a_huge_body_is_refused_without_being_read(
    post: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, signature: str
) -> None:
    body = b"x" * (2 * 1024 * 1024)
    headers = signed(body) if signature == "signed" else {}

    status, reason = await answer(post, body, JSON, headers)

    assert (status, reason) == (413, "request body too large")
    assert tracebacks(caplog) == []


def test_the_signature_check_reads_bytes_and_a_strict_timestamp() -> None:
    check = SignatureCheck(secret="s", clock=lambda: 1_700_000_000)
    body = b"\xff\x00 any bytes"

    def valid(timestamp: str, signature: str | None = None) -> bool:
        signature = signature or sign("s", timestamp=timestamp, body=body)
        return check.is_valid(body=body, timestamp=timestamp, signature=signature)

    assert valid("1700000000")
    assert valid("1699999700")  # five minutes old
    assert not valid("1699999699")
    assert not valid("1700000301")  # from the future
    assert not valid(" 1700000000")
    assert not valid("1700000000", sign("other", timestamp="1700000000", body=body))
    assert not check.is_valid(body=body, timestamp=None, signature=None)
    with pytest.raises(ValueError, match="signing secret"):
        SignatureCheck(secret="")


# --- replays ---------------------------------------------------------------------------------


async def test_a_replayed_claim_is_not_applied_again(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    first = await sender.block_action(
        "tandem_claim", "42", user=BOB, channel=AGENTS, message_ts=thread.thread_ts
    )
    (press,) = sender.sent
    replays = [await sender.replay(press) for _ in range(3)]
    # Another press by Bob (Slack gives each its own action_ts) is a press of its own.
    await sender.block_action(
        "tandem_claim", "42", user=BOB, channel=AGENTS, message_ts=thread.thread_ts
    )

    assert [r.status for r in (first, *replays)] == [200] * 4
    assert [e.command for e in handler.events if isinstance(e, AgentAction)] == [
        AgentCommand.CLAIM,
        AgentCommand.CLAIM,
    ]


async def test_a_replayed_command_is_not_applied_again(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    link = f"https://x.slack.com/archives/{AGENTS}/p{thread.thread_ts.replace('.', '')}"

    first = await sender.slash_command("/tandem", f"close {link}", user=ALICE, channel=AGENTS)
    replayed = await sender.replay(sender.sent[-1])

    assert first.json()["text"] == ON_IT
    assert (replayed.status, replayed.body) == (200, "")
    assert [e.command for e in handler.events if isinstance(e, AgentAction)] == [AgentCommand.CLOSE]


async def test_a_replayed_event_body_with_a_new_signature_is_still_one_event(
    handler: RecordingHandler, sender: SlackEventSender, thread: DeskThread
) -> None:
    event = reply_event(thread, "once")

    await deliver(sender, event, event_id="Ev0REPLAY")
    body = sender.sent[-1].body
    again = await sender.send(body, content_type=JSON)  # freshly signed: same event_id

    assert again.status == 200
    assert replies(handler) == ["once"]
