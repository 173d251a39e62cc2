"""The real Telegram adapter and PTB Application against the Telegram simulator.

The handler is a hand-written recording fake; nothing is mocked. Tests await what they
expect (a handled update, a recorded call) with a timeout instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram import RetryPolicy, SendLimits, TelegramAdapter, TelegramAdapterError
from bot.adapters.telegram.delivery import Delivery, failure_cause, retry_after_seconds
from bot.adapters.telegram.files import MAX_DOWNLOAD_BYTES
from bot.adapters.telegram.inbound import to_inbound
from bot.adapters.telegram.limiter import SendLimiter
from bot.adapters.telegram.outbound import sent_message_id, split_text
from bot.http import HealthReport, HttpServer
from bot.simulators.telegram import (
    FILE_DOWNLOAD,
    PHOTO_CONTENT,
    SECRET_HEADER,
    TelegramSimulator,
    telegram_user,
)
from handoff.errors import DeliveryError, FailureCause
from handoff.model import (
    Attachment,
    Button,
    ButtonAnswer,
    ChatType,
    ConversationKey,
    Customer,
    Inbound,
    MessageKind,
    Outbound,
)
from handoff.ports import InboundHandler

CHAT = 4242
OTHER_CHAT = 5151
SECRET = "webhook-s3cret_token"
FAST_LIMITS = SendLimits(per_chat_interval=0.0, overall_per_second=1000.0)
FAST_RETRY = RetryPolicy(attempts=4, first_delay=0.05, budget=5.0)
WAIT = 5.0  # seconds a test waits for something it expects before failing

pytestmark = pytest.mark.filterwarnings(
    # PTB 22 warns on every RetryAfter that its retry_after will become a timedelta.
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


class RecordingHandler:
    """An InboundHandler that records what it gets; it can hold a chat back or fail on a text."""

    def __init__(self) -> None:
        self.started: list[Inbound] = []
        self.finished: list[Inbound] = []
        self.gates: dict[str, asyncio.Event] = {}  # chat id -> released when set
        self.failing_texts: set[str] = set()
        self._changed = asyncio.Event()

    async def handle(self, inbound: Inbound) -> None:
        self.started.append(inbound)
        self._notify()
        if inbound.text in self.failing_texts:
            raise RuntimeError(f"handler failed on {inbound.text!r}")
        gate = self.gates.get(inbound.key.chat_id)
        if gate is not None:
            await gate.wait()
        self.finished.append(inbound)
        self._notify()

    async def wait_finished(self, count: int) -> list[Inbound]:
        """What was handled, once ``count`` inbounds were (within :data:`WAIT` seconds)."""
        return await self._wait(self.finished, count)

    async def wait_started(self, count: int) -> list[Inbound]:
        """What was handed over, once ``count`` inbounds were (within :data:`WAIT` seconds)."""
        return await self._wait(self.started, count)

    async def _wait(self, seen: list[Inbound], count: int) -> list[Inbound]:
        async with asyncio.timeout(WAIT):
            while len(seen) < count:
                await self._changed.wait()
        return list(seen)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@contextlib.asynccontextmanager
async def polling_adapter(
    sim: TelegramSimulator, handler: InboundHandler, **options: Any
) -> AsyncIterator[TelegramAdapter]:
    """A started adapter polling ``sim`` (no pacing unless ``options`` say otherwise)."""
    telegram = TelegramAdapter(
        token=sim.token, api_url=sim.api_url, handler=handler, **{"limits": FAST_LIMITS, **options}
    )
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.stop()


@pytest.fixture
async def adapter(
    sim: TelegramSimulator, handler: RecordingHandler
) -> AsyncIterator[TelegramAdapter]:
    async with polling_adapter(sim, handler, retry=FAST_RETRY) as telegram:
        yield telegram


def _key(chat_id: int = CHAT) -> ConversationKey:
    return ConversationKey("telegram", str(chat_id))


# --- inbound --------------------------------------------------------------------------


async def test_a_text_becomes_a_text_inbound(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    ada = telegram_user(CHAT, first_name="Ada", last_name="Lovelace", username="ada")
    injected = sim.send_text(CHAT, "hello there", user={**ada, "language_code": "de"})

    (inbound,) = await handler.wait_finished(1)

    assert inbound == Inbound(
        key=ConversationKey("telegram", "4242"),
        customer=Customer(
            user_id="4242", display_name="Ada Lovelace", username="ada", language_code="de"
        ),
        message_id=str(injected.message_id),
        kind=MessageKind.TEXT,
        sent_at=inbound.sent_at,
        text="hello there",
    )
    assert inbound.sent_at.tzinfo is not None
    assert inbound.sent_at.utcoffset() == UTC.utcoffset(None)


async def test_commands_become_command_inbounds(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    for command in (
        "/start",
        "/start@tandem_test_bot",
        "/HUMAN",
        "/foo bar  baz",
        "/start@Tandem_Test_Bot ref-42",
    ):
        sim.send_command(CHAT, command)

    received = await handler.wait_finished(5)

    assert [(i.kind, i.command, i.text) for i in received] == [
        (MessageKind.COMMAND, "start", None),
        (MessageKind.COMMAND, "start", None),
        (MessageKind.COMMAND, "human", None),
        (MessageKind.COMMAND, "foo", "bar  baz"),
        (MessageKind.COMMAND, "start", "ref-42"),
    ]


async def test_a_command_for_another_bot_is_ignored(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    sim.send_command(-100, "/start@SomeOtherBot", chat_type="group")
    sim.send_text(-100, "after it", chat_type="group")

    # One chat's updates are handled in order, so the command came first and was dropped.
    (inbound,) = await handler.wait_finished(1)
    assert inbound.text == "after it"


async def test_a_button_press_becomes_a_button_inbound(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    sim.send_text(CHAT, "hi")
    await handler.wait_finished(1)
    message_id = await adapter.send(
        Outbound(key=_key(), text="Did that help?", buttons=((Button("Yes", "helped:yes"),),))
    )

    press = sim.press_button(CHAT, int(message_id), "helped:yes")
    inbound = (await handler.wait_finished(2))[1]
    await adapter.answer_button(ButtonAnswer(press_id=inbound.message_id, text="Thanks!"))

    assert inbound.kind is MessageKind.BUTTON
    assert inbound.button == "helped:yes"
    assert inbound.message_id == press.callback_query_id
    assert inbound.button_message_id == message_id
    assert inbound.customer.user_id == str(CHAT)
    answer = await sim.wait_for_call("answerCallbackQuery")
    assert answer.params == {"callback_query_id": press.callback_query_id, "text": "Thanks!"}
    assert answer.status == 200


async def test_media_become_their_kinds_with_attachments(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    sim.send_photo(CHAT, caption="my receipt")
    sim.send_sticker(CHAT)
    sim.send_voice(CHAT)
    sim.send_document(CHAT, file_name="invoice.pdf", mime_type="application/pdf")
    sim.send_location(CHAT, latitude=52.52, longitude=13.405)
    sim.send_contact(CHAT, phone_number="+4930123", first_name="Bo", last_name="Li")
    video = {"file_id": "vid1", "file_unique_id": "u1", "width": 1, "height": 1, "duration": 2}
    sim.send_content(CHAT, {"video": {**video, "mime_type": "video/mp4"}, "caption": "look"})
    gif = {"file_id": "gif1", "file_unique_id": "u2", "file_name": "a.gif.mp4"}
    sim.send_content(CHAT, {"animation": {**gif, "width": 1, "height": 1, "duration": 1}})
    sim.send_content(CHAT, {"dice": {"emoji": "🎲", "value": 4}})

    received = await handler.wait_finished(9)

    photo, sticker, voice, document, location, contact, clip, animation, dice = received
    assert (photo.kind, photo.text) == (MessageKind.PHOTO, "my receipt")
    assert photo.attachment is not None
    assert photo.attachment.file_id.endswith("x1280")
    assert photo.attachment.size == 1280 * 60
    assert sticker.kind is MessageKind.STICKER
    assert sticker.text is None
    assert sticker.attachment is not None
    assert sticker.attachment.mime_type == "image/webp"
    assert voice.kind is MessageKind.VOICE
    assert voice.attachment is not None
    assert voice.attachment.mime_type == "audio/ogg"
    assert document.kind is MessageKind.DOCUMENT
    assert document.attachment is not None
    assert (document.attachment.file_name, document.attachment.mime_type) == (
        "invoice.pdf",
        "application/pdf",
    )
    assert (location.kind, location.text) == (MessageKind.LOCATION, "52.52,13.405")
    assert (contact.kind, contact.text) == (MessageKind.CONTACT, "Bo Li +4930123")
    assert (clip.kind, clip.text) == (MessageKind.VIDEO, "look")
    assert clip.attachment == Attachment("vid1", None, "video/mp4", None)
    assert animation.kind is MessageKind.ANIMATION
    assert animation.attachment is not None
    assert animation.attachment.file_id == "gif1"
    assert (dice.kind, dice.attachment) == (MessageKind.OTHER, None)


async def test_an_edited_message_keeps_its_id(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    original = sim.send_text(CHAT, "my order is 1234")
    sim.edit_text(CHAT, original.message_id or 0, "my order is 1243")

    first, edit = await handler.wait_finished(2)

    assert (first.edited, edit.edited) == (False, True)
    assert edit.message_id == first.message_id == str(original.message_id)
    assert edit.text == "my order is 1243"


async def test_group_chats_are_marked_as_groups(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    member = telegram_user(77, first_name="Bo", last_name=None)
    sim.send_text(-100, "hello group", user=member, chat_type="group")
    sim.send_text(-1001234, "hello supergroup", user=member, chat_type="supergroup")

    group, supergroup = await handler.wait_finished(2)

    assert (group.key, group.chat_type) == (ConversationKey("telegram", "-100"), ChatType.GROUP)
    assert supergroup.chat_type is ChatType.GROUP
    assert group.customer == Customer("77", "Bo", "customer77", "en")


def test_updates_without_a_customer_message_are_ignored() -> None:
    chat = {"id": -1009, "type": "channel", "title": "News"}
    channel_post = {
        "update_id": 1,
        "channel_post": {"message_id": 1, "date": 0, "chat": chat, "text": "news"},
    }
    member_update = {
        "update_id": 2,
        "my_chat_member": {
            "chat": {"id": 1, "type": "private", "first_name": "A"},
            "from": telegram_user(1),
            "date": 0,
            "old_chat_member": {"status": "member", "user": telegram_user(9)},
            "new_chat_member": {"status": "kicked", "user": telegram_user(9), "until_date": 0},
        },
    }
    service = {
        "update_id": 3,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": -100, "type": "group", "title": "G"},
            "from": telegram_user(1),
            "new_chat_members": [telegram_user(2)],
        },
    }

    for data in (channel_post, member_update, service):
        assert to_inbound(Update.de_json(data, None), bot_username="tandem_test_bot") is None


async def test_chats_are_handled_concurrently_and_each_in_order(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    release_first_chat = asyncio.Event()
    handler.gates[str(CHAT)] = release_first_chat
    sim.send_text(CHAT, "A1")
    sim.send_text(CHAT, "A2")
    sim.send_text(OTHER_CHAT, "B1")

    # B1 is handled while A1 is still blocked: the chats do not wait for each other ...
    (b1,) = await handler.wait_finished(1)
    assert b1.text == "B1"
    # ... and A2 has not started: it waits for A1, its own chat's earlier message.
    assert [i.text for i in handler.started] == ["A1", "B1"]

    release_first_chat.set()
    await handler.wait_finished(3)
    assert [i.text for i in handler.finished] == ["B1", "A1", "A2"]


async def test_a_failing_handler_does_not_stop_later_updates(
    adapter: TelegramAdapter,
    sim: TelegramSimulator,
    handler: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.failing_texts.add("boom")
    caplog.set_level(logging.ERROR, logger="bot.adapters.telegram")

    sim.send_text(CHAT, "boom")
    sim.send_text(CHAT, "after the failure")

    (after,) = await handler.wait_finished(1)
    assert after.text == "after the failure"
    errors = [r for r in caplog.records if r.name.startswith("bot.adapters.telegram")]
    assert len(errors) == 1
    assert "RuntimeError: handler failed on 'boom'" in errors[0].getMessage()
    assert "Traceback" in errors[0].getMessage()
    assert sim.token not in caplog.text


# --- outbound -------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [True, {}, {"message_id": "7"}, {"message_id": True}])
def test_a_send_answered_without_a_message_id_is_a_delivery_error(answer: object) -> None:
    with pytest.raises(DeliveryError, match="without a message id"):
        sent_message_id(answer)


async def test_send_delivers_plain_text_with_inline_buttons(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    message = Outbound(
        key=_key(),
        text="Use *this* <b>link</b> [x](http://e.com)",
        buttons=((Button("Yes", "y"), Button("No", "n")), (Button("Talk to a person", "human"),)),
    )

    message_id = await adapter.send(message)

    call = await sim.wait_for_call("sendMessage")
    assert "parse_mode" not in call.params
    assert call.params["text"] == message.text
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "y"}, {"text": "No", "callback_data": "n"}],
            [{"text": "Talk to a person", "callback_data": "human"}],
        ]
    }
    (sent,) = sim.messages_to(CHAT)
    assert str(sent.message_id) == message_id
    assert sent.parse_mode is None


async def test_a_429_is_retried_after_the_wait_and_delivered_once(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    sim.fail_next("sendMessage", status=429, retry_after=1)

    await adapter.send(Outbound(key=_key(), text="after the flood wait"))

    refused, accepted = sim.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0
    assert [m.text for m in sim.messages_to(CHAT)] == ["after the flood wait"]


async def test_a_bad_gateway_is_retried_and_delivered_once(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    sim.fail_next("sendMessage", status=502, times=2)

    await adapter.send(Outbound(key=_key(), text="eventually"))

    assert [c.status for c in sim.calls_to("sendMessage")] == [502, 502, 200]
    assert [m.text for m in sim.messages_to(CHAT)] == ["eventually"]


async def test_retries_are_bounded(adapter: TelegramAdapter, sim: TelegramSimulator) -> None:
    sim.send_text(CHAT, "hi")
    sim.fail_next("sendMessage", status=502, times=FAST_RETRY.attempts)

    with pytest.raises(DeliveryError, match="gave up on the message to telegram:4242"):
        await adapter.send(Outbound(key=_key(), text="never"))

    assert len(sim.calls_to("sendMessage")) == FAST_RETRY.attempts


async def test_a_blocked_bot_or_unknown_chat_is_a_delivery_error(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    sim.block(CHAT)

    with pytest.raises(DeliveryError, match=r"refused the message to telegram:4242.*blocked"):
        await adapter.send(Outbound(key=_key(), text="hello?"))
    with pytest.raises(DeliveryError, match="Chat not found"):
        await adapter.send(Outbound(key=_key(999), text="hello?"))
    assert len(sim.calls_to("sendMessage")) == 2  # refusals are not retried


async def test_long_texts_are_split_and_every_id_returned(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    paragraph = "word " * 199 + "end.\n"  # 1,000 characters
    text = paragraph * 9

    sent_id = await adapter.send(Outbound(key=_key(), text=text, buttons=((Button("OK", "ok"),),)))

    sent = sim.messages_to(CHAT)
    assert len(sent) == 3
    assert all(len(m.text) <= 4096 for m in sent)
    assert all(m.text.rstrip().endswith("end.") for m in sent)  # cut at line breaks
    assert "\n".join(m.text for m in sent) == text
    assert [m.buttons for m in sent] == [[], [], [[("OK", "ok")]]]
    assert sent_id == "+".join(str(m.message_id) for m in sent)  # the buttons' part last


PARAGRAPH = "word " * 199 + "end.\n"  # 1,000 characters


async def test_a_reply_in_parts_is_edited_in_every_part(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    sent_id = await adapter.send(Outbound(key=_key(), text="first. " + PARAGRAPH * 5))

    edited = "second. " + PARAGRAPH * 5
    await adapter.edit_text(_key(), sent_id, edited)
    parts = sim.messages_to(CHAT)
    assert len(parts) == 2
    assert "\n".join(m.text for m in parts) == edited
    assert [m.edited for m in parts] == [True, False]  # the second part read the same

    shorter = "third. " + PARAGRAPH * 2 + "the end."  # fits one message: spread over two
    await adapter.edit_text(_key(), sent_id, shorter)
    parts = sim.messages_to(CHAT)
    assert [m.edited for m in parts] == [True, True]
    assert [len(m.text) for m in parts] == [1006, 1008]  # cut at the line break nearest half
    assert "\n".join(m.text for m in parts) == shorter

    await adapter.delete(_key(), sent_id)
    assert [m.deleted for m in sim.messages_to(CHAT)] == [True, True]


async def test_an_edit_that_needs_more_parts_changes_nothing_and_says_why(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    sent_id = await adapter.send(Outbound(key=_key(), text=PARAGRAPH * 5))

    with pytest.raises(DeliveryError, match=r"fit the 2 message\(s\).*take 3.*nothing was"):
        await adapter.edit_text(_key(), sent_id, PARAGRAPH * 9)
    with pytest.raises(DeliveryError, match="fit the 2 message"):
        await adapter.edit_text(_key(), sent_id, "ok")  # too short to fill two

    assert not any(m.edited for m in sim.messages_to(CHAT))
    assert sim.calls_to("editMessageText") == []


async def test_invalid_buttons_are_refused_before_sending(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    too_long = Button("Pick", "x" * 65)

    with pytest.raises(ValueError, match="1-64 bytes"):
        await adapter.send(Outbound(key=_key(), text="choose", buttons=((too_long,),)))
    with pytest.raises(ValueError, match="not a Telegram conversation"):
        await adapter.send(Outbound(key=ConversationKey("slack", "C1"), text="x"))
    assert sim.calls_to("sendMessage") == []


async def test_typing_is_shown_and_its_failures_ignored(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    sim.send_text(CHAT, "hi")
    await adapter.show_typing(_key())
    sim.fail_next("sendChatAction", status=403)
    await adapter.show_typing(_key())

    first, second = sim.calls_to("sendChatAction")
    assert first.params == {"chat_id": CHAT, "action": "typing"}
    assert (first.status, second.status) == (200, 403)


async def test_messages_are_paced_per_chat_but_chats_do_not_wait_for_each_other(
    sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    paced = TelegramAdapter(
        token=sim.token,
        api_url=sim.api_url,
        handler=handler,
        limits=SendLimits(per_chat_interval=0.5),
    )
    sim.send_text(CHAT, "hi")
    sim.send_text(OTHER_CHAT, "hi")
    await paced.start()
    try:
        await asyncio.gather(
            paced.send(Outbound(key=_key(CHAT), text="A1")),
            paced.send(Outbound(key=_key(CHAT), text="A2")),
            paced.send(Outbound(key=_key(OTHER_CHAT), text="B1")),
        )
    finally:
        await paced.stop()

    calls = sim.calls_to("sendMessage")
    assert [c.params["text"] for c in calls] == ["A1", "B1", "A2"]
    # Paced when sent; the arrival times also carry each request's own latency.
    assert calls[2].at - calls[0].at >= 0.4


async def test_start_refuses_a_wrong_token_without_logging_it(
    sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrong"
    adapter = TelegramAdapter(token=wrong, api_url=sim.api_url, handler=handler)

    with pytest.raises(TelegramAdapterError, match="refused TELEGRAM_BOT_TOKEN") as raised:
        await adapter.start()

    assert wrong not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


# --- customers' files -----------------------------------------------------------------


async def test_a_customers_photo_and_document_are_downloaded(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    sim.send_photo(CHAT, caption="the damage")
    sim.send_document(CHAT, file_name="receipt.pdf", content=b"%PDF-1.4 receipt")
    photo, document = await handler.wait_finished(2)
    assert photo.attachment is not None
    assert document.attachment is not None

    assert await adapter.download(photo.attachment) == PHOTO_CONTENT
    assert await adapter.download(document.attachment) == b"%PDF-1.4 receipt"

    assert [c.params["file_id"] for c in sim.calls_to("getFile")] == [
        photo.attachment.file_id,
        document.attachment.file_id,
    ]
    assert len(sim.calls_to(FILE_DOWNLOAD)) == 2


async def test_a_failing_download_is_retried(
    adapter: TelegramAdapter, sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    sim.send_document(CHAT, content=b"bytes")
    (document,) = await handler.wait_finished(1)
    assert document.attachment is not None
    sim.fail_next("getFile", status=502)
    sim.fail_next(FILE_DOWNLOAD, status=503)

    assert await adapter.download(document.attachment) == b"bytes"

    assert [c.status for c in sim.calls_to("getFile")] == [502, 200]
    assert [c.status for c in sim.calls_to(FILE_DOWNLOAD)] == [503, 200]


async def test_a_file_that_cannot_be_fetched_is_a_delivery_error_without_the_token(
    adapter: TelegramAdapter,
    sim: TelegramSimulator,
    handler: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.send_document(CHAT, content=b"bytes")
    (document,) = await handler.wait_finished(1)
    assert document.attachment is not None
    sim.fail_next(FILE_DOWNLOAD, status=502, times=FAST_RETRY.attempts)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError, match="gave up on the download of file") as gave_up:
        await adapter.download(document.attachment)
    with pytest.raises(DeliveryError, match="refused the details of file gone") as refused:
        await adapter.download(Attachment(file_id="gone"))

    # The download URL carries the token (percent-encoded): no error or log line of
    # Tandem's may show it. (Production keeps httpx's request log, which does, below INFO.)
    own_lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert any("retrying the download of file" in line for line in own_lines)
    for text in (str(gave_up.value), str(refused.value), *own_lines):
        assert sim.token not in text
        assert quote(sim.token) not in text


async def test_the_token_is_masked_in_errors_also_as_a_download_url_carries_it() -> None:
    token = "123456789:AAsecret"
    delivery = Delivery(
        limiter=SendLimiter(limits=FAST_LIMITS), policy=RetryPolicy(attempts=1), token=token
    )

    async def unreachable() -> bytes:
        url = f"http://files.example/file/bot{quote(token)}/photos/file_1.jpg"
        raise NetworkError(f"httpx.ConnectError: {url} (bot{token})")

    with pytest.raises(DeliveryError, match=r"file/bot\*\*\*/photos") as raised:
        await delivery.call("the download of file x", unreachable)

    assert token not in str(raised.value)
    assert quote(token) not in str(raised.value)


async def test_files_over_the_limit_are_refused_before_they_are_fetched(
    sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    small = TelegramAdapter(
        token=sim.token,
        api_url=sim.api_url,
        handler=handler,
        retry=FAST_RETRY,
        max_download_bytes=10,
    )
    sim.send_document(CHAT, content=b"more than ten bytes")
    await small.start()
    try:
        (document,) = await handler.wait_finished(1)
        assert document.attachment is not None
        unknown_size = Attachment(file_id=document.attachment.file_id)
        with pytest.raises(DeliveryError, match="too large to fetch: 19 bytes"):
            await small.download(unknown_size)  # getFile tells the size
    finally:
        await small.stop()
    assert len(sim.calls_to("getFile")) == 1
    assert sim.calls_to(FILE_DOWNLOAD) == []


async def test_files_over_20_mb_are_refused_without_asking_telegram(
    adapter: TelegramAdapter, sim: TelegramSimulator
) -> None:
    huge = Attachment(file_id="BQhuge", file_name="scan.tiff", size=MAX_DOWNLOAD_BYTES + 1)

    with pytest.raises(DeliveryError, match="more than the 20,971,520 bytes a bot may download"):
        await adapter.download(huge)

    assert sim.calls_to("getFile") == []


# --- webhook mode ---------------------------------------------------------------------


def _free_port() -> int:
    # The webhook URL must name the port before the server starts (aiohttp freezes its
    # routes at start), so ask the OS for a free one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _healthy() -> HealthReport:
    return HealthReport(healthy=True, checks={})


@contextlib.asynccontextmanager
async def webhook_adapter(
    sim: TelegramSimulator, handler: InboundHandler, **options: Any
) -> AsyncIterator[tuple[TelegramAdapter, str]]:
    """A started adapter in webhook mode on a server of its own, and its webhook URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    http = HttpServer(host="127.0.0.1", port=port, health=_healthy)
    telegram = TelegramAdapter(
        token=sim.token,
        api_url=sim.api_url,
        handler=handler,
        webhook_url=url,
        webhook_secret=SECRET,
        routes=http,
        **{"limits": FAST_LIMITS, **options},
    )
    await http.start()
    await telegram.start()
    try:
        yield telegram, url
    finally:
        await telegram.stop()
        await http.stop()


@pytest.fixture
async def webhook(
    sim: TelegramSimulator, handler: RecordingHandler
) -> AsyncIterator[tuple[TelegramAdapter, str]]:
    async with webhook_adapter(sim, handler) as running:
        yield running


async def test_the_webhook_is_set_with_its_secret_at_start(
    webhook: tuple[TelegramAdapter, str], sim: TelegramSimulator
) -> None:
    _, url = webhook

    call = await sim.wait_for_call("setWebhook")

    assert call.params["url"] == url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert call.params["drop_pending_updates"] is False
    assert sim.calls_to("getUpdates") == []


async def test_updates_arrive_through_the_webhook(
    webhook: tuple[TelegramAdapter, str], sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    injected = sim.send_text(CHAT, "via the webhook")

    (inbound,) = await handler.wait_finished(1)

    assert inbound.text == "via the webhook"
    delivery = await sim.wait_for_webhook_delivery(injected.update_id)
    assert delivery.status == 200


async def test_the_webhook_refuses_requests_without_the_secret(
    webhook: tuple[TelegramAdapter, str], handler: RecordingHandler
) -> None:
    _, url = webhook

    def update(update_id: int, text: str) -> dict[str, object]:
        chat = {"id": CHAT, "type": "private", "first_name": "Ada"}
        message = {"message_id": update_id, "date": 0, "chat": chat, "text": text}
        return {"update_id": update_id, "message": {**message, "from": telegram_user(CHAT)}}

    async with httpx.AsyncClient(trust_env=False) as client:
        missing = await client.post(url, json=update(1, "no secret"))
        wrong = await client.post(
            url, json=update(2, "wrong secret"), headers={SECRET_HEADER: "guess"}
        )
        right = await client.post(url, json=update(3, "right"), headers={SECRET_HEADER: SECRET})
        garbage = await client.post(url, content=b"[1, 2", headers={SECRET_HEADER: SECRET})

    assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
    assert garbage.status_code == 400
    # The refused updates were never queued: the chat's only handled message is the right one.
    (inbound,) = await handler.wait_finished(1)
    assert inbound.text == "right"
    assert [i.text for i in handler.started] == ["right"]


async def test_the_webhook_answers_503_until_the_adapter_runs(
    sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    http = HttpServer(host="127.0.0.1", port=port, health=_healthy)
    TelegramAdapter(
        token=sim.token,
        api_url=sim.api_url,
        handler=handler,
        webhook_url=url,
        webhook_secret=SECRET,
        routes=http,
    )
    await http.start()
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(url, json={}, headers={SECRET_HEADER: SECRET})
    finally:
        await http.stop()

    # Telegram keeps an update it could not deliver and tries again later.
    assert response.status_code == 503
    assert handler.started == []


def test_a_webhook_needs_a_secret(handler: RecordingHandler) -> None:
    with pytest.raises(ValueError, match="secret"):
        TelegramAdapter(
            token="1:x",
            api_url="http://127.0.0.1:1",
            handler=handler,
            webhook_url="https://example.com/telegram/webhook",
        )


# --- pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize("timedelta_mode", ["false", "true"])
def test_retry_after_is_read_in_either_of_ptbs_shapes(
    monkeypatch: pytest.MonkeyPatch, timedelta_mode: str
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_mode)

    assert retry_after_seconds(RetryAfter(7)) == 7.0


def test_split_text_prefers_line_breaks_then_spaces_then_any_cut() -> None:
    assert split_text("short") == ["short"]
    assert split_text("aaaa bbbb\ncccc dddd", limit=12) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb cccc", limit=10) == ["aaaa bbbb", "cccc"]
    assert split_text("a" * 25, limit=10) == ["a" * 10, "a" * 10, "a" * 5]


def test_split_text_counts_utf16_code_units_like_telegram() -> None:
    emoji = "\N{GRINNING FACE}"  # two UTF-16 code units

    chunks = split_text(emoji * 6, limit=8)

    assert chunks == [emoji * 4, emoji * 2]


def test_split_text_refuses_an_empty_message() -> None:
    with pytest.raises(ValueError, match="without text"):
        split_text(" \n ")


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), FailureCause.BLOCKED),
        (Forbidden("Forbidden: user is deactivated"), FailureCause.CHAT_GONE),
        (BadRequest("Bad Request: chat not found"), FailureCause.CHAT_GONE),
        (BadRequest("Bad Request: message is too long"), FailureCause.REFUSED),
    ],
)
def test_a_refusal_names_its_cause(error: TelegramError, cause: FailureCause) -> None:
    assert failure_cause(error) is cause
    assert cause.retryable is (cause is FailureCause.BLOCKED)


# --- the command menu -------------------------------------------------------------------


async def test_the_command_menu_is_registered_at_start(
    sim: TelegramSimulator, handler: RecordingHandler
) -> None:
    commands = [("human", "talk to a person"), ("start", "the introduction again")]
    async with polling_adapter(sim, handler, commands=commands):
        [call] = sim.calls_to("setMyCommands")
    assert call.params["commands"] == [
        {"command": "human", "description": "talk to a person"},
        {"command": "start", "description": "the introduction again"},
    ]


async def test_a_refused_command_menu_does_not_stop_the_start(
    sim: TelegramSimulator, handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    async with polling_adapter(sim, handler, commands=[("Not-Valid!", "x")]):
        assert sim.calls_to("setMyCommands")[0].status == 400
        sim.send_text(CHAT, "hi")
        assert (await handler.wait_finished(1))[0].text == "hi"
    assert "Telegram refused the command menu" in caplog.text
