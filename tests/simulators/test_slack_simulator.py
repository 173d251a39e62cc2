"""The Slack simulator driven by the real slack_sdk ``AsyncWebClient`` and a real Bolt
``AsyncApp`` served over HTTP (and Socket Mode); signed requests come from the sender.

Nothing here sleeps for timing: tests await the simulator's records or a handler's queue.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.simulators.slack import (
    Signature,
    SlackEventSender,
    SlackSimulator,
    WaitTimeout,
    defaults,
    events,
    sign,
)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
AGENTS = defaults.AGENTS_CHANNEL_ID
ALICE = defaults.ALICE_ID

JsonDict = dict[str, Any]


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as simulator:
        yield simulator


@pytest.fixture
def client(sim: SlackSimulator) -> AsyncWebClient:
    return AsyncWebClient(token=sim.bot_token, base_url=sim.api_url)


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> Any:
    return exc.value.response["error"]


# -- Web API through the real AsyncWebClient


async def test_auth_test_reports_the_bot_and_its_scopes(client: AsyncWebClient) -> None:
    answer = await client.auth_test()

    assert answer["user_id"] == defaults.BOT_USER_ID
    assert answer["bot_id"] == defaults.BOT_ID
    assert answer["team_id"] == defaults.TEAM_ID
    assert answer["url"] == defaults.TEAM_URL
    assert "chat:write" in answer.headers["x-oauth-scopes"]


async def test_post_message_answers_increasing_ts_and_records_decoded_blocks(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New* handoff"}}]

    first = await client.chat_postMessage(channel=AGENTS, text="New handoff", blocks=blocks)
    second = await client.chat_postMessage(channel=AGENTS, text="Another", unfurl_links=False)

    assert first["channel"] == AGENTS
    assert first["message"]["bot_id"] == defaults.BOT_ID
    assert first["message"]["user"] == defaults.BOT_USER_ID
    assert float(second["ts"]) > float(first["ts"])
    recorded = sim.calls_to("chat.postMessage")
    assert recorded[0].params["blocks"] == blocks  # a list, not the JSON string
    assert recorded[1].params["unfurl_links"] is False
    assert [m.text for m in sim.messages_in(AGENTS)] == ["New handoff", "Another"]


async def test_posting_by_channel_name_and_the_form_encoded_variant_of_the_api(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    # The SDK sends chat.postMessage as JSON; a hand-made form request must work too.
    answer = await client.api_call(
        "chat.postMessage",
        data={"channel": "#support-agents", "text": "form", "blocks": '[{"type": "divider"}]'},
    )

    assert answer["channel"] == AGENTS
    assert sim.calls_to("chat.postMessage")[0].params["blocks"] == [{"type": "divider"}]


async def test_thread_replies_are_kept_under_their_parent(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel=AGENTS, text="Customer #42 needs help")
    await client.chat_postMessage(channel=AGENTS, text="reply", thread_ts=parent["ts"])
    await client.chat_postMessage(
        channel=AGENTS, text="broadcast", thread_ts=parent["ts"], reply_broadcast=True
    )
    human = sim.add_message(channel=AGENTS, user=ALICE, text="on it", thread_ts=parent["ts"])

    replies = await client.conversations_replies(channel=AGENTS, ts=parent["ts"])

    texts = [m["text"] for m in replies["messages"]]
    assert texts == ["Customer #42 needs help", "reply", "broadcast", "on it"]
    assert replies["messages"][0]["reply_count"] == 3
    assert replies["messages"][-1]["user"] == ALICE
    thread = sim.messages_in(AGENTS, thread_ts=parent["ts"])
    assert [m.ts for m in thread][-1] == human.ts
    # The channel shows the parent and the broadcast reply only.
    assert [m.text for m in sim.messages_in(AGENTS)] == ["Customer #42 needs help", "broadcast"]
    history = await client.conversations_history(channel=AGENTS)
    assert [m["text"] for m in history["messages"]] == ["broadcast", "Customer #42 needs help"]


async def test_update_changes_the_stored_message(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=AGENTS, text="Waiting for an agent")

    updated = await client.chat_update(
        channel=AGENTS, ts=posted["ts"], text="Alice took it", blocks=[{"type": "divider"}]
    )

    assert updated["ts"] == posted["ts"]
    (message,) = sim.messages_in(AGENTS)
    assert message.text == "Alice took it"
    assert message.blocks == [{"type": "divider"}]
    assert message.edited_ts is not None
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel=AGENTS, ts="1.000001", text="x")
    assert error_of(missing) == "message_not_found"


async def test_wrong_or_missing_token_is_refused(sim: SlackSimulator) -> None:
    wrong = AsyncWebClient(token="xoxb-not-the-bot", base_url=sim.api_url)
    anonymous = AsyncWebClient(base_url=sim.api_url)

    with pytest.raises(SlackApiError) as refused:
        await wrong.chat_postMessage(channel=AGENTS, text="hi")
    with pytest.raises(SlackApiError) as unauthenticated:
        await anonymous.auth_test()

    assert error_of(refused) == "invalid_auth"
    assert refused.value.response.status_code == 200  # Slack answers auth errors with 200
    assert error_of(unauthenticated) == "not_authed"
    assert sim.messages_in(AGENTS) == []
    assert [call.error for call in sim.calls] == ["invalid_auth", "not_authed"]


async def test_unknown_channel_and_channel_without_the_bot(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    sim.add_channel("C0OUTSIDE", "elsewhere", is_member=False)

    with pytest.raises(SlackApiError) as unknown:
        await client.chat_postMessage(channel="C0NOWHERE", text="hi")
    with pytest.raises(SlackApiError) as outside:
        await client.chat_postMessage(channel="C0OUTSIDE", text="hi")
    await client.conversations_join(channel="C0OUTSIDE")
    await client.chat_postMessage(channel="C0OUTSIDE", text="hi")

    assert error_of(unknown) == "channel_not_found"
    assert error_of(outside) == "not_in_channel"
    assert [m.text for m in sim.messages_in("C0OUTSIDE")] == ["hi"]


async def test_users_and_conversations_info(sim: SlackSimulator, client: AsyncWebClient) -> None:
    sim.add_user("U0CUSTOM", "carol", real_name="Carol Custom", tz="Asia/Tokyo")

    alice = (await client.users_info(user=ALICE))["user"]
    carol = (await client.users_info(user="U0CUSTOM"))["user"]
    bot = (await client.users_info(user=defaults.BOT_USER_ID))["user"]
    channel = (await client.conversations_info(channel=AGENTS))["channel"]
    with pytest.raises(SlackApiError) as missing:
        await client.users_info(user="U0NOBODY")

    assert alice["real_name"] == "Alice Agent"
    assert alice["profile"]["display_name"] == "Alice"
    assert carol["profile"]["real_name"] == "Carol Custom"
    assert carol["tz"] == "Asia/Tokyo"
    assert carol["tz_offset"] == 9 * 3600
    assert bot["is_bot"] is True
    assert channel == channel | {"id": AGENTS, "name": "support-agents", "is_member": True}
    assert error_of(missing) == "user_not_found"


async def test_ephemeral_reaction_permalink_and_delete(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=AGENTS, text="Take it?")

    ephemeral = await client.chat_postEphemeral(channel=AGENTS, user=ALICE, text="only you")
    await client.reactions_add(channel=AGENTS, timestamp=posted["ts"], name="eyes")
    link = await client.chat_getPermalink(channel=AGENTS, message_ts=posted["ts"])
    (reacted,) = sim.messages_in(AGENTS)
    await client.chat_delete(channel=AGENTS, ts=posted["ts"])

    assert sim.ephemerals[0].ts == ephemeral["message_ts"]
    assert sim.ephemerals[0].user == ALICE
    assert [(r.name, r.users) for r in reacted.reactions] == [("eyes", (defaults.BOT_USER_ID,))]
    assert link["permalink"].endswith(f"/archives/{AGENTS}/p{posted['ts'].replace('.', '')}")
    assert sim.messages_in(AGENTS) == []


async def test_files_are_accepted_and_recorded(sim: SlackSimulator, client: AsyncWebClient) -> None:
    await client.files_upload_v2(
        channel=AGENTS, content="transcript", filename="chat.txt", title="Transcript"
    )

    (uploaded,) = sim.files
    assert (uploaded.name, uploaded.title, uploaded.channels) == (
        "chat.txt",
        "Transcript",
        (AGENTS,),
    )
    assert uploaded.size == len("transcript")


async def test_legacy_multipart_upload_is_recorded(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    # files.upload itself, without the SDK wrapper that warns about its deprecation.
    await client.api_call(
        "files.upload",
        files={"file": io.BytesIO(b"0123456789")},
        data={"channels": AGENTS, "filename": "log.txt", "title": "Log"},
    )

    (uploaded,) = sim.files
    assert (uploaded.name, uploaded.title, uploaded.size) == ("log.txt", "Log", 10)


async def test_unreadable_json_body_is_answered_like_slack(sim: SlackSimulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.api_url}chat.postMessage",
            data=b"{not json",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {sim.bot_token}",
            },
        ) as response,
    ):
        answer = await response.json()

    assert answer == {"ok": False, "error": "invalid_json"}
    assert sim.calls_to("chat.postMessage")[0].error == "invalid_json"


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("admin.teams.create")

    assert error_of(unknown) == "unknown_method"


async def test_rate_limit_is_retried_and_the_message_posted_once(sim: SlackSimulator) -> None:
    # Retry-After 0 keeps the test fast; the SDK still waits up to one second of jitter.
    sim.fail_next("chat.postMessage", status=429, retry_after=0)
    retrying = AsyncWebClient(
        token=sim.bot_token,
        base_url=sim.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )

    answer = await retrying.chat_postMessage(channel=AGENTS, text="once")

    assert answer["ok"] is True
    assert [(c.status, c.error) for c in sim.calls_to("chat.postMessage")] == [
        (429, "ratelimited"),
        (200, None),
    ]
    assert [m.text for m in sim.messages_in(AGENTS)] == ["once"]


async def test_rate_limit_answer_carries_retry_after(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    sim.fail_next("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=AGENTS, text="no")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert error_of(limited) == "ratelimited"
    assert sim.messages_in(AGENTS) == []


async def test_server_errors_and_error_answers_are_injected(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    sim.fail_next("chat.postMessage", status=503, times=2)
    sim.fail_next("users.info", error="fatal_error")

    with pytest.raises(SlackApiError) as unavailable:
        await client.chat_postMessage(channel=AGENTS, text="lost")
    retrying = AsyncWebClient(
        token=sim.bot_token,
        base_url=sim.api_url,
        retry_handlers=[
            AsyncServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    await retrying.chat_postMessage(channel=AGENTS, text="second try")
    with pytest.raises(SlackApiError) as failed:
        await client.users_info(user=ALICE)
    await client.users_info(user=ALICE)  # the fault was used up

    assert unavailable.value.response.status_code == 503
    assert error_of(unavailable) == "service_unavailable"
    assert [m.text for m in sim.messages_in(AGENTS)] == ["second try"]
    assert failed.value.response.status_code == 200
    assert error_of(failed) == "fatal_error"


async def test_a_slow_answer_comes_after_the_client_gave_up_but_the_post_is_there(
    sim: SlackSimulator,
) -> None:
    sim.slow_next("chat.postMessage", delay=30)
    impatient = AsyncWebClient(token=sim.bot_token, base_url=sim.api_url, timeout=1)

    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel=AGENTS, text="landed all the same")
    await impatient.chat_postMessage(channel=AGENTS, text="answered in time")

    assert [m.text for m in sim.messages_in(AGENTS)] == ["landed all the same", "answered in time"]
    assert [(c.ok, c.late) for c in sim.calls_to("chat.postMessage")] == [
        (True, True),
        (True, False),
    ]


def test_slow_answers_need_a_delay_and_a_count(sim: SlackSimulator) -> None:
    with pytest.raises(ValueError, match="delay"):
        sim.slow_next("chat.postMessage", delay=0)
    with pytest.raises(ValueError, match="times"):
        sim.slow_next("chat.postMessage", delay=1, times=0)


TAG = {"event_type": "tandem_outbox", "event_payload": {"outbox_id": 17, "part": 1}}


async def test_metadata_is_kept_and_shown_in_replies_only_when_asked_for(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel=AGENTS, text="card")
    posted = await client.chat_postMessage(
        channel=AGENTS, text="tagged", thread_ts=parent["ts"], metadata=TAG
    )

    plain = await client.conversations_replies(channel=AGENTS, ts=parent["ts"])
    full = await client.conversations_replies(
        channel=AGENTS, ts=parent["ts"], include_all_metadata=True
    )

    assert posted["message"]["metadata"] == TAG
    assert ["metadata" in m for m in plain["messages"]] == [False, False]
    assert [m.get("metadata") for m in full["messages"]] == [None, TAG]


@pytest.mark.parametrize(
    "metadata",
    [{"event_payload": {}}, {"event_type": "x"}, {"event_type": "x", "event_payload": [1]}],
)
async def test_metadata_of_the_wrong_shape_is_refused(
    sim: SlackSimulator, client: AsyncWebClient, metadata: JsonDict
) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=AGENTS, text="x", metadata=metadata)

    assert error_of(refused) == "invalid_metadata_format"
    assert sim.messages_in(AGENTS) == []


async def test_replies_come_in_pages(sim: SlackSimulator, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=AGENTS, text="0")
    for n in range(1, 5):
        await client.chat_postMessage(channel=AGENTS, text=str(n), thread_ts=parent["ts"])

    pages, cursor = [], None
    while True:
        page = await client.conversations_replies(
            channel=AGENTS, ts=parent["ts"], limit=2, cursor=cursor
        )
        pages.append([m["text"] for m in page["messages"]])
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break

    assert pages == [["0", "1"], ["2", "3"], ["4"]]
    assert cursor == ""
    with pytest.raises(SlackApiError) as bad:
        await client.conversations_replies(channel=AGENTS, ts=parent["ts"], cursor="nonsense")
    assert error_of(bad) == "invalid_cursor"


async def test_a_fault_can_wait_for_calls_that_work_first(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    sim.fail_next("chat.postMessage", error="msg_blocked", after=2)

    for text in ("one", "two"):
        await client.chat_postMessage(channel=AGENTS, text=text)
    with pytest.raises(SlackApiError) as third:
        await client.chat_postMessage(channel=AGENTS, text="three")
    await client.chat_postMessage(channel=AGENTS, text="four")

    assert error_of(third) == "msg_blocked"
    assert [m.text for m in sim.messages_in(AGENTS)] == ["one", "two", "four"]
    with pytest.raises(ValueError, match="after"):
        sim.fail_next("chat.postMessage", after=-1)


async def test_wait_for_call_resolves_when_the_call_arrives(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel=AGENTS, text="old")
    mark = sim.mark()
    waiting = asyncio.create_task(
        sim.wait_for_call("chat.postMessage", lambda c: c.params["text"] == "new", since=mark)
    )
    await client.chat_postMessage(channel=AGENTS, text="other")
    await client.chat_postMessage(channel=AGENTS, text="new")

    call = await waiting
    already = await sim.wait_for_call("chat.postMessage")  # since=0: the past counts

    assert call.params["text"] == "new"
    assert already.params["text"] == "old"
    with pytest.raises(WaitTimeout, match=r"chat\.postMessage"):
        await sim.wait_for_call("chat.update", since=mark, timeout=0.05)


async def test_a_broken_predicate_fails_the_waiting_test(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    waiting = asyncio.create_task(sim.wait_for_call("auth.test", lambda c: c.params["missing"]))
    await client.auth_test()  # the server still answers

    with pytest.raises(KeyError):
        await waiting


# -- A real Bolt app over HTTP


@dataclass
class BoltHarness:
    app: AsyncApp
    sender: SlackEventSender
    handled: asyncio.Queue[JsonDict]
    """What the test's listeners saw, in order; await ``handled.get()`` instead of sleeping."""


@pytest.fixture
async def bolt(sim: SlackSimulator) -> AsyncIterator[BoltHarness]:
    # Bolt takes the token from the client; passing token= as well only logs a warning.
    app = AsyncApp(
        client=AsyncWebClient(token=sim.bot_token, base_url=sim.api_url),
        signing_secret=SIGNING_SECRET,
    )

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    sender = SlackEventSender(
        endpoint_url=f"http://127.0.0.1:{port}/slack/events",
        signing_secret=SIGNING_SECRET,
        response_url_base=sim.response_url_base,
    )
    yield BoltHarness(app=app, sender=sender, handled=asyncio.Queue())
    await runner.cleanup()


async def next_handled(bolt: BoltHarness) -> JsonDict:
    async with asyncio.timeout(5):
        return await bolt.handled.get()


def reply_in_thread(bolt: BoltHarness) -> Callable[..., Awaitable[None]]:
    async def on_message(event: JsonDict, say: AsyncSay, request: AsyncBoltRequest) -> None:
        await bolt.handled.put(
            {"event": event, "retry_num": request.headers.get("x-slack-retry-num")}
        )
        await say(
            text=f"echo: {event.get('text')}", thread_ts=event.get("thread_ts") or event["ts"]
        )

    return on_message


async def test_signed_message_event_reaches_the_handler_which_replies_in_thread(
    sim: SlackSimulator, bolt: BoltHarness
) -> None:
    bolt.app.event("message")(reply_in_thread(bolt))
    parent = sim.add_message(channel=AGENTS, user=ALICE, text="Need help with #42")
    event = events.user_message_event(
        channel=AGENTS, user=ALICE, text="customer says hi", thread_ts=parent.ts
    )

    response = await bolt.sender.event_callback(event, retry_num=1, retry_reason="http_timeout")
    call = await sim.wait_for_call("chat.postMessage")

    assert response.status == 200
    assert call.params == call.params | {
        "channel": AGENTS,
        "text": "echo: customer says hi",
        "thread_ts": parent.ts,
    }
    assert [m.text for m in sim.messages_in(AGENTS, thread_ts=parent.ts)] == [
        "Need help with #42",
        "echo: customer says hi",
    ]
    handled = await next_handled(bolt)
    assert handled["retry_num"] == ["1"]
    assert sim.calls_to("auth.test")  # Bolt authorised itself against the simulator


@pytest.mark.parametrize("signature", [Signature.WRONG, Signature.MISSING, Signature.STALE])
async def test_badly_signed_requests_are_refused_and_never_handled(
    sim: SlackSimulator, bolt: BoltHarness, signature: Signature
) -> None:
    bolt.app.event("message")(reply_in_thread(bolt))

    refused = await bolt.sender.event_callback(
        events.user_message_event(channel=AGENTS, user=ALICE, text="forged"), signature=signature
    )
    # A valid event after it: once it is handled, the forged one would have been too.
    await bolt.sender.event_callback(
        events.user_message_event(channel=AGENTS, user=ALICE, text="genuine")
    )
    handled = await next_handled(bolt)

    assert refused.status == 401
    assert handled["event"]["text"] == "genuine"
    assert bolt.handled.empty()
    await sim.wait_for_call("chat.postMessage")
    assert [c.params["text"] for c in sim.calls_to("chat.postMessage")] == ["echo: genuine"]


async def test_url_verification_is_answered(bolt: BoltHarness) -> None:
    response = await bolt.sender.url_verification(
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )

    assert response.status == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_block_action_is_acked_and_respond_replaces_the_message(
    sim: SlackSimulator, client: AsyncWebClient, bolt: BoltHarness
) -> None:
    posted = await client.chat_postMessage(channel=AGENTS, text="Customer #42 waits")

    @bolt.app.action("take_handoff")
    async def take(ack: AsyncAck, body: JsonDict, action: JsonDict, respond: AsyncRespond) -> None:
        await ack()
        await bolt.handled.put({"body": body, "action": action})
        await respond(text=f"<@{body['user']['id']}> took it", replace_original=True)

    response = await bolt.sender.block_action(
        "take_handoff", "conv-42", user=ALICE, channel=AGENTS, message_ts=posted["ts"]
    )
    handled = await next_handled(bolt)
    post = await sim.wait_for_response_post()

    assert response.status == 200
    assert handled["action"]["value"] == "conv-42"
    assert handled["body"]["container"]["message_ts"] == posted["ts"]
    assert handled["body"]["trigger_id"]
    assert post.body["replace_original"] is True
    assert [m.text for m in sim.messages_in(AGENTS)] == [f"<@{ALICE}> took it"]


async def test_slash_command_is_acked_and_handled(sim: SlackSimulator, bolt: BoltHarness) -> None:
    @bolt.app.command("/tandem")
    async def tandem(ack: AsyncAck, command: JsonDict, respond: AsyncRespond) -> None:
        await ack()
        await bolt.handled.put(command)
        await respond(text=f"status: {command['text']}")

    response = await bolt.sender.slash_command("/tandem", "status", user=ALICE, channel=AGENTS)
    command = await next_handled(bolt)
    post = await sim.wait_for_response_post()

    assert response.status == 200
    assert (command["command"], command["text"], command["user_id"]) == ("/tandem", "status", ALICE)
    assert post.body["text"] == "status: status"
    assert sim.ephemerals[-1].text == "status: status"  # response_type defaults to ephemeral


async def test_response_url_posts_follow_slacks_rules(
    sim: SlackSimulator, client: AsyncWebClient
) -> None:
    doomed = await client.chat_postMessage(channel=AGENTS, text="Take it?")
    delete = events.response_url(sim.response_url_base, channel=AGENTS, message_ts=doomed["ts"])
    command = events.response_url(sim.response_url_base, channel=AGENTS)

    await AsyncWebhookClient(delete).send(delete_original=True)
    await AsyncWebhookClient(command).send(text="for everyone", response_type="in_channel")

    assert [m.text for m in sim.messages_in(AGENTS)] == ["for everyone"]
    assert [post.message_ts for post in sim.response_posts] == [doomed["ts"], None]


async def test_event_builders_reach_bolt_with_their_subtypes(bolt: BoltHarness) -> None:
    @bolt.app.event("message")
    async def on_message(event: JsonDict) -> None:
        await bolt.handled.put(event)

    original = events.user_message_event(channel=AGENTS, user=ALICE, text="helo")
    sent = [
        events.bot_message_event(channel=AGENTS, bot_id="B0OTHER", text="from another bot"),
        events.message_changed_event(original, text="hello"),
        events.message_deleted_event(original),
        events.thread_broadcast_event(
            channel=AGENTS, user=ALICE, text="also in channel", thread_ts=original["ts"]
        ),
    ]
    for event in sent:
        assert (await bolt.sender.event_callback(event)).status == 200
    received = [await next_handled(bolt) for _ in sent]

    by_subtype = {event["subtype"]: event for event in received}
    assert set(by_subtype) == {
        "bot_message",
        "message_changed",
        "message_deleted",
        "thread_broadcast",
    }
    assert by_subtype["message_changed"]["message"]["text"] == "hello"
    assert by_subtype["message_changed"]["previous_message"]["text"] == "helo"
    assert by_subtype["message_deleted"]["deleted_ts"] == original["ts"]
    assert by_subtype["thread_broadcast"]["thread_ts"] == original["ts"]


def test_signature_matches_slack_sdk_verifier() -> None:
    body = json.dumps({"type": "event_callback"})
    sender = SlackEventSender(endpoint_url="http://unused.invalid", signing_secret=SIGNING_SECRET)
    headers = sender.signature_headers(body)

    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert headers["X-Slack-Signature"] == sign(
        SIGNING_SECRET, timestamp=headers["X-Slack-Request-Timestamp"], body=body
    )


def test_a_signature_covers_the_bytes_sent() -> None:
    body = b"\xff not UTF-8"

    signature = sign(SIGNING_SECRET, timestamp="1700000000", body=body)

    assert signature == sign(SIGNING_SECRET, timestamp="1700000000", body=body)
    assert signature != sign(SIGNING_SECRET, timestamp="1700000000", body=b"\xfe not UTF-8")
    assert sign(SIGNING_SECRET, timestamp="1", body="é") == sign(
        SIGNING_SECRET, timestamp="1", body="é".encode()
    )


async def test_a_sent_request_can_be_replayed_byte_for_byte(bolt: BoltHarness) -> None:
    @bolt.app.command("/tandem")
    async def tandem(ack: AsyncAck, command: JsonDict) -> None:
        await ack()
        await bolt.handled.put(command)

    await bolt.sender.slash_command("/tandem", "status #1", user=ALICE, channel=AGENTS)
    (sent,) = bolt.sender.sent
    again = await bolt.sender.replay(sent)  # the same timestamp and signature

    first, second = await next_handled(bolt), await next_handled(bolt)
    assert again.status == 200  # Bolt alone takes it again
    assert first == second
    assert bolt.sender.sent == [sent]  # a replay is not a new request


# -- Socket Mode


async def test_socket_mode_delivers_an_event_and_gets_the_ack(sim: SlackSimulator) -> None:
    app = AsyncApp(client=AsyncWebClient(token=sim.bot_token, base_url=sim.api_url))

    @app.event("message")
    async def on_message(event: JsonDict, say: AsyncSay) -> None:
        await say(text="over the socket", thread_ts=event["ts"])

    handler = AsyncSocketModeHandler(app, app_token=sim.app_token)
    # Bolt leaves these two unannotated.
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        event = events.user_message_event(channel=AGENTS, user=ALICE, text="hi")
        ack = await sim.send_socket_mode("events_api", events.event_callback_body(event))
        call = await sim.wait_for_call("chat.postMessage")
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

    assert "envelope_id" in ack
    assert call.params["thread_ts"] == event["ts"]
    assert sim.calls_to("apps.connections.open")[0].ok
