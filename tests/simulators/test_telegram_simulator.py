"""The Telegram simulator, driven by the real python-telegram-bot ``Bot`` and by plain HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.simulators.telegram import (
    FILE_DOWNLOAD,
    MAX_DOWNLOAD_SIZE,
    PHOTO_CONTENT,
    SECRET_HEADER,
    TelegramSimulator,
    group_chat,
    telegram_user,
)

CHAT = 4242

# PTB 22 warns on every RetryAfter that its retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


@pytest.fixture
async def bot(sim: TelegramSimulator) -> AsyncIterator[Bot]:
    async with Bot(sim.token, base_url=f"{sim.api_url}/bot") as client:
        yield client


@pytest.fixture
async def http(sim: TelegramSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.api_url, trust_env=False) as client:
        yield client


async def test_get_me_describes_the_bot(bot: Bot, sim: TelegramSimulator) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "tandem_test_bot"
    assert me.id == int(sim.token.split(":")[0])
    assert sim.calls_to("getMe")[0].status == 200


async def test_send_message_is_recorded_with_its_body(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "hello")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])

    first = await bot.send_message(CHAT, "Hi *there*", reply_markup=keyboard, parse_mode="Markdown")
    second = await bot.send_message(CHAT, "plain")

    call = sim.calls_to("sendMessage")[0]
    assert call.params == {
        "chat_id": CHAT,
        "text": "Hi *there*",
        "parse_mode": "Markdown",
        "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]},
    }
    assert first.from_user is not None
    assert first.from_user.is_bot
    assert second.message_id == first.message_id + 1 == 3  # the customer's message was 1
    sent = sim.messages_to(CHAT)
    assert [(m.text, m.parse_mode, m.buttons) for m in sent] == [
        ("Hi *there*", "Markdown", [[("Yes", "yes")]]),
        ("plain", None, []),
    ]


async def test_json_and_form_bodies_are_decoded_alike(
    http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hello")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    path = f"/bot{sim.token}/sendMessage"

    as_json = await http.post(path, json={"chat_id": CHAT, "text": "x", "reply_markup": markup})
    as_form = await http.post(
        path, data={"chat_id": str(CHAT), "text": "x", "reply_markup": json.dumps(markup)}
    )

    assert as_json.status_code == as_form.status_code == 200
    assert as_json.json()["ok"] is True
    first, second = sim.calls_to("sendMessage")
    assert first.params == second.params


async def test_get_updates_confirms_updates_below_the_offset(
    bot: Bot, sim: TelegramSimulator
) -> None:
    first = sim.send_text(CHAT, "one")
    second = sim.send_text(CHAT, "two")

    both = await bot.get_updates()
    again = await bot.get_updates()
    after_first = await bot.get_updates(offset=first.update_id + 1)
    none = await bot.get_updates(offset=second.update_id + 1)

    assert [u.update_id for u in both] == [first.update_id, second.update_id]
    assert [u.update_id for u in again] == [first.update_id, second.update_id]
    assert [u.update_id for u in after_first] == [second.update_id]
    assert none == ()
    assert sim.pending_updates == []


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, sim: TelegramSimulator
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await sim.wait_for_long_poll()

    injected = sim.send_text(CHAT, "wake up")
    # Far less than the poll's 30 seconds: the injection, not the timeout, ended it.
    updates = await asyncio.wait_for(poll, timeout=5)

    assert [u.update_id for u in updates] == [injected.update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "wake up"


async def test_allowed_updates_filters_what_is_delivered(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "a message")
    sent = await bot.send_message(CHAT, "pick", reply_markup=_one_button("b"))
    press = sim.press_button(CHAT, sent.message_id, "b")

    updates = await bot.get_updates(allowed_updates=["callback_query"])

    assert [u.update_id for u in updates] == [press.update_id]
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "b"
    assert query.id == press.callback_query_id
    assert query.message is not None
    assert query.message.message_id == sent.message_id


async def test_commands_carry_a_bot_command_entity(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_command(CHAT, "/start@tandem_test_bot promo")

    (update,) = await bot.get_updates()

    message = update.message
    assert message is not None
    assert message.text == "/start@tandem_test_bot promo"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 22)]


async def test_media_edits_and_groups_look_like_telegrams(bot: Bot, sim: TelegramSimulator) -> None:
    text = sim.send_text(CHAT, "first version")
    sim.send_photo(CHAT, caption="my receipt")
    sim.send_document(CHAT, file_name="a.pdf", mime_type="application/pdf")
    sim.edit_text(CHAT, text.message_id or 0, "second version")
    sim.send_text(-100, "in a group", user=telegram_user(7, first_name="Bo"), chat_type="group")

    updates = await bot.get_updates()

    photo = updates[1].message
    document = updates[2].message
    edited = updates[3].edited_message
    group = updates[4].message
    assert photo is not None
    assert photo.caption == "my receipt"
    assert len(photo.photo) == 3
    assert document is not None
    assert document.document is not None
    assert document.document.file_name == "a.pdf"
    assert edited is not None
    assert edited.message_id == text.message_id
    assert edited.text == "second version"
    assert edited.edit_date is not None
    assert group is not None
    assert group.chat.type == "group"
    assert group.chat.id == -100
    assert group.from_user is not None
    assert group.from_user.first_name == "Bo"


async def test_a_wrong_token_is_unauthorized(
    http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    response = await http.post("/bot123:wrong/getMe")

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with Bot("123:wrong", base_url=f"{sim.api_url}/bot"):
            pass


async def test_an_unknown_method_is_not_found(
    http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    response = await http.post(f"/bot{sim.token}/sendTelepathy", json={"chat_id": CHAT})

    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert sim.calls_to("sendTelepathy")[0].status == 404


async def test_methods_are_case_insensitive(
    http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    response = await http.get(f"/bot{sim.token}/GETME")

    assert response.json()["result"]["username"] == "tandem_test_bot"
    assert sim.calls_to("getMe")


async def test_an_injected_429_looks_like_telegrams(
    bot: Bot, http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hello")
    sim.fail_next("sendMessage", status=429, retry_after=3, times=2)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "too fast")
    raw = await http.post(f"/bot{sim.token}/sendMessage", json={"chat_id": CHAT, "text": "x"})
    delivered = await bot.send_message(CHAT, "now")

    # PTB reports seconds or, with PTB_TIMEDELTA (set by the adapter), a timedelta.
    assert raised.value.retry_after in (3, timedelta(seconds=3))
    assert raw.status_code == 429
    assert raw.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert [c.status for c in sim.calls_to("sendMessage")] == [429, 429, 200]
    assert [m.text for m in sim.messages_to(CHAT)] == [delivered.text]


async def test_a_fault_can_wait_for_earlier_calls_to_go_through(
    bot: Bot, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hello")
    sim.fail_next("sendMessage", status=429, retry_after=90, after=2)

    await bot.send_message(CHAT, "part 1")
    await bot.send_message(CHAT, "part 2")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "part 3")
    await bot.send_message(CHAT, "part 3")

    assert raised.value.retry_after in (90, timedelta(seconds=90))
    assert [c.status for c in sim.calls_to("sendMessage")] == [200, 200, 429, 200]


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def clocked(clock: ManualClock) -> AsyncIterator[tuple[TelegramSimulator, Bot]]:
    """A simulator timed by ``clock``, a bot, and two chats whose customers wrote first."""
    async with (
        TelegramSimulator(clock=clock) as sim,
        Bot(sim.token, base_url=f"{sim.api_url}/bot") as bot,
    ):
        sim.send_text(CHAT, "hello")
        sim.send_text(CHAT + 1, "hello")
        yield sim, bot


async def test_flood_control_refuses_until_the_wait_is_over() -> None:
    clock = ManualClock()
    async with clocked(clock) as (sim, bot):
        sim.flood("sendMessage", seconds=90, chat_id=CHAT)

        waits = []
        for advance in (0.0, 30.0, 59.5):
            clock.now += advance
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(CHAT, "too early")
            waits.append(raised.value.retry_after)
        other_chat = await bot.send_message(CHAT + 1, "another chat is not held")
        clock.now += 0.5
        delivered = await bot.send_message(CHAT, "on time")

    # The seconds left, rounded up; PTB gives seconds or (with PTB_TIMEDELTA) a timedelta.
    assert [w if isinstance(w, int) else int(w.total_seconds()) for w in waits] == [90, 60, 1]
    assert (other_chat.text, delivered.text) == ("another chat is not held", "on time")


async def test_a_flood_from_the_next_call_asks_that_call_for_the_whole_wait() -> None:
    clock = ManualClock()
    async with clocked(clock) as (sim, bot):
        sim.flood("sendMessage", seconds=61, chat_id=CHAT, from_next_call=True)
        clock.now += 1.2  # the client comes late (paced after its last message, or busy)
        other_chat = await bot.send_message(CHAT + 1, "another chat does not open it")

        waits = []
        for advance in (0.0, 30.0):
            clock.now += advance
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(CHAT, "too early")
            waits.append(raised.value.retry_after)
        clock.now += 31.0
        delivered = await bot.send_message(CHAT, "on time")

    # Timed from here, the first refusal would have asked for 60 s (61 - 1.2, rounded up).
    assert [w if isinstance(w, int) else int(w.total_seconds()) for w in waits] == [61, 31]
    assert (other_chat.text, delivered.text) == ("another chat does not open it", "on time")


async def test_a_malformed_update_is_served_as_given(
    bot: Bot, http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    far_future = sim.send_malformed(CHAT, {"date": 10**15})
    listed = sim.send_malformed(CHAT, {"text": ["not", "a", "string"]})

    raw = await http.post(f"/bot{sim.token}/getUpdates", json={})
    with pytest.raises(ValueError, match="out of range"):
        await bot.get_updates()  # PTB cannot decode the first one

    first, second = raw.json()["result"]
    assert (first["update_id"], first["message"]["date"]) == (far_future.update_id, 10**15)
    assert (second["update_id"], second["message"]["text"]) == (
        listed.update_id,
        ["not", "a", "string"],
    )


async def test_blocked_and_failing_answers(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "hello")
    sim.fail_next("sendMessage", status=403)
    sim.fail_next("sendChatAction", status=502)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "x")
    with pytest.raises(NetworkError) as bad_gateway:
        await bot.send_chat_action(CHAT, "typing")
    sim.block(CHAT)
    with pytest.raises(Forbidden):
        await bot.send_message(CHAT, "still blocked")

    assert not isinstance(bad_gateway.value, BadRequest)
    assert sim.messages_to(CHAT) == []


async def test_telegrams_bad_requests(bot: Bot, sim: TelegramSimulator) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "nobody there")
    sim.add_chat(group_chat(-5))
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(-5, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(-5, "  ")
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(-5, "x", reply_markup=_one_button("d" * 65))
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(-5, "dancing")

    accepted = await bot.send_message(-5, "x" * 4096)
    assert accepted.text == "x" * 4096


async def test_buttons_are_answered_once(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "hello")
    sent = await bot.send_message(CHAT, "pick", reply_markup=_one_button("b"))
    press = sim.press_button(CHAT, sent.message_id, "b")
    assert press.callback_query_id is not None

    assert await bot.answer_callback_query(press.callback_query_id, text="Got it")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(press.callback_query_id)
    with pytest.raises(ValueError, match="no button"):
        sim.press_button(CHAT, sent.message_id, "not offered")


async def test_bot_edits_change_what_the_customer_sees(bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "hello")
    sent = await bot.send_message(CHAT, "pick", reply_markup=_one_button("b"))

    await bot.edit_message_text("picked", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)

    (message,) = sim.messages_to(CHAT)
    assert (message.text, message.buttons, message.edited) == ("picked", [], True)


async def test_a_webhook_blocks_get_updates(bot: Bot, sim: TelegramSimulator) -> None:
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    assert sim.calls_to("setWebhook")[0].params["secret_token"] == "s3cret"

    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_updates_are_posted_to_the_webhook_with_the_secret(
    bot: Bot, sim: TelegramSimulator
) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    answers = iter([500, 200, 200])

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        injected = sim.send_text(CHAT, "via webhook")

        await sim.wait_for_webhook_delivery(injected.update_id)
    finally:
        await runner.cleanup()

    # The first POST was answered 500, so Telegram (and the simulator) sent it again.
    assert [status for _, status in [(d.update_id, d.status) for d in sim.webhook_deliveries]] == [
        500,
        200,
    ]
    assert [secret for secret, _ in received] == ["s3cret", "s3cret"]
    assert received[1][1]["update_id"] == injected.update_id
    assert sim.pending_updates == []


async def test_with_more_connections_chats_are_posted_at_once_each_in_order() -> None:
    """As Telegram does up to the webhook's max_connections (here 2 of the simulator's 3):
    different chats' updates at once, one chat's only after its earlier one was accepted
    (one answered 500 is posted again first)."""
    in_flight: set[int] = set()
    most, overlaps = 0, 0
    both = asyncio.Event()
    received: dict[int, list[str]] = {}

    async def hook(request: web.Request) -> web.Response:
        nonlocal most, overlaps
        message = (await request.json())["message"]
        chat, text = int(message["chat"]["id"]), str(message["text"])
        overlaps += chat in in_flight
        in_flight.add(chat)
        most = max(most, len(in_flight))
        if len(in_flight) == 2:
            both.set()
        await both.wait()  # the first one waits until a second is posted at the same time
        in_flight.discard(chat)
        received.setdefault(chat, []).append(text)
        failed_once = text == "a 1" and received[chat].count(text) == 1
        return web.Response(status=500 if failed_once else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with TelegramSimulator(webhook_connections=3, webhook_retry_delay=0.01) as sim:
            async with Bot(sim.token, base_url=f"{sim.api_url}/bot") as bot:
                port = runner.addresses[0][1]
                await bot.set_webhook(
                    f"http://127.0.0.1:{port}/hook", secret_token="s3cret", max_connections=2
                )
            sent = [sim.send_text(chat, text) for chat, text in _TWO_CHATS]
            for update in sent:
                await sim.wait_for_webhook_delivery(update.update_id)
            assert sim.pending_updates == []
    finally:
        await runner.cleanup()
    assert (most, overlaps) == (2, 0)
    assert received == {CHAT: ["a 1", "a 1", "a 2"], CHAT + 1: ["b 1", "b 2"]}


_TWO_CHATS = ((CHAT, "a 1"), (CHAT, "a 2"), (CHAT + 1, "b 1"), (CHAT + 1, "b 2"))


async def test_wait_for_call_says_what_it_saw_when_it_times_out(sim: TelegramSimulator) -> None:
    with pytest.raises(TimeoutError, match="1 call\\(s\\) to sendMessage; calls so far: \\[\\]"):
        await sim.wait_for_call("sendMessage", timeout=0.05)


def test_the_module_serves_a_simulator_and_prints_its_url() -> None:
    command = [sys.executable, "-m", "bot.simulators.telegram", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
        finally:
            process.terminate()

    assert first_line.startswith("Telegram Bot API simulator: TELEGRAM_API_URL=http://127.0.0.1:")


def _one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Button", callback_data=data)]])


# --- files customers send ---------------------------------------------------------------


@pytest.fixture
async def file_bot(sim: TelegramSimulator) -> AsyncIterator[Bot]:
    """A bot that also downloads from the simulator (PTB's ``base_file_url``)."""
    async with Bot(
        sim.token, base_url=f"{sim.api_url}/bot", base_file_url=f"{sim.api_url}/file/bot"
    ) as client:
        yield client


async def test_a_photo_can_be_fetched_as_a_tiny_png(file_bot: Bot, sim: TelegramSimulator) -> None:
    sim.send_photo(CHAT, caption="the damage")
    [update] = await file_bot.get_updates()
    assert update.message is not None
    largest = update.message.photo[-1]

    file = await file_bot.get_file(largest.file_id)
    content = await file.download_as_bytearray()

    assert (file.file_id, file.file_unique_id) == (largest.file_id, largest.file_unique_id)
    assert file.file_size == largest.file_size
    assert file.file_path == f"{sim.api_url}/file/bot{sim.token}/photos/file_3.jpg"
    assert bytes(content) == PHOTO_CONTENT
    assert PHOTO_CONTENT.startswith(b"\x89PNG\r\n\x1a\n")
    (download,) = sim.calls_to(FILE_DOWNLOAD)
    assert download.params == {"file_path": "photos/file_3.jpg"}  # never the token


async def test_a_document_downloads_as_the_content_given(
    file_bot: Bot, sim: TelegramSimulator
) -> None:
    sim.send_document(CHAT, file_name="receipt.pdf", content=b"%PDF-1.4 receipt")
    [update] = await file_bot.get_updates()
    assert update.message is not None
    assert update.message.document is not None
    assert update.message.document.file_size == len(b"%PDF-1.4 receipt")

    file = await file_bot.get_file(update.message.document.file_id)

    assert file.file_path is not None
    assert file.file_path.endswith("/documents/file_1.pdf")
    assert await file.download_as_bytearray() == b"%PDF-1.4 receipt"


async def test_files_telegram_would_not_hand_out(file_bot: Bot, sim: TelegramSimulator) -> None:
    huge = {"file_id": "BQhuge", "file_unique_id": "u9", "file_size": MAX_DOWNLOAD_SIZE + 1}
    sim.send_content(CHAT, {"document": {**huge, "file_name": "scan.tiff"}})

    with pytest.raises(BadRequest, match="Invalid file_id"):
        await file_bot.get_file("no-such-file")
    with pytest.raises(BadRequest, match="File is too big"):
        await file_bot.get_file("BQhuge")


async def test_downloads_check_the_token_and_can_be_made_to_fail(
    http: httpx.AsyncClient, sim: TelegramSimulator
) -> None:
    sim.send_document(CHAT, content=b"bytes")
    path = "documents/file_1.pdf"
    sim.fail_next(FILE_DOWNLOAD, status=502)

    failed = await http.get(f"/file/bot{sim.token}/{path}")
    fetched = await http.get(f"/file/bot{sim.token}/{path}")
    wrong_token = await http.get(f"/file/bot123:wrong/{path}")
    missing = await http.get(f"/file/bot{sim.token}/documents/file_99.pdf")

    assert (failed.status_code, failed.json()["description"]) == (502, "Bad Gateway")
    assert (fetched.status_code, fetched.content) == (200, b"bytes")
    assert wrong_token.status_code == 401
    assert missing.status_code == 404
    assert [c.status for c in sim.calls_to(FILE_DOWNLOAD)] == [502, 200, 401, 404]
