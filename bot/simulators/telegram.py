"""A local Telegram Bot API server for tests and the offline sandbox.

It speaks the real HTTP protocol (``{api_url}/bot{token}/{method}``, JSON or form bodies,
``{"ok": ..., "result": ...}`` answers with Telegram's error codes and descriptions) closely
enough that python-telegram-bot runs against it unmodified. Tests drive it through plain
Python methods of :class:`TelegramSimulator`: inject what a customer does (``send_text``,
``press_button``, ...), read what the bot did (``calls``, ``messages_to``), await it
instead of sleeping (``wait_for_call``, ``wait_for_messages``) and make the next calls
fail (``fail_next``).

Deliberate simplifications: no files are stored or served; message lengths are counted in
UTF-16 code units (as Telegram does for entities, so never looser than the real limit);
``parse_mode`` is recorded but not parsed; webhooks may be plain ``http://``; updates are
delivered to a webhook one at a time, in order.

Run ``python -m bot.simulators.telegram --port 8081`` to serve it on its own.
"""

# The test API takes ``timeout=`` arguments on purpose: tests await recorded calls with a
# bound, and the simulator's long polls take Telegram's own ``timeout`` parameter.

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAHsimulatedTokenForTandemTests_0"  # noqa: S105 - made up
MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, Telegram's limit for a message's text
MAX_CALLBACK_DATA_BYTES = 64
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

# What Telegram sends when getUpdates/setWebhook never named the update types wanted.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_STATUS_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Form bodies carry every value as a string (python-telegram-bot JSON-encodes everything that
# is not already a string); the real API decodes by each parameter's declared type.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "scope",
        "media",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
    }
)


# --- values tests read ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request: its decoded parameters, when it arrived, and the HTTP status given.

    ``at`` is :func:`time.monotonic` on arrival; calls are recorded in the order they finished.
    """

    method: str
    params: JsonDict
    at: float
    status: int = 200


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, as the customer sees it now (after any edits)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JsonDict | None = None
    parse_mode: str | None = None
    edited: bool = False

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of ``(label, callback_data)``."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


@dataclass(frozen=True, slots=True)
class Injected:
    """What an injected customer event became: its update, message and callback query ids."""

    update_id: int
    message_id: int | None = None
    callback_query_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook; ``status`` is None when it did not connect."""

    update_id: int
    status: int | None
    at: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int


@dataclass(frozen=True, slots=True)
class _Described:
    """A successful result that Telegram also describes, e.g. "Webhook was set"."""

    result: Any
    description: str


class _ApiError(Exception):
    """Answered as ``{"ok": false, ...}`` with Telegram's status and description."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


# --- users and chats ------------------------------------------------------------------


def telegram_user(
    user_id: int,
    *,
    first_name: str = "Ada",
    last_name: str | None = "Lovelace",
    username: str | None = None,
    language_code: str | None = "en",
) -> JsonDict:
    """A Telegram ``User`` object for a customer (``username`` defaults to ``customer<id>``)."""
    user: JsonDict = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": last_name,
        "username": username if username is not None else f"customer{user_id}",
        "language_code": language_code,
    }
    return {k: v for k, v in user.items() if v is not None}


def private_chat(user: JsonDict) -> JsonDict:
    """The private ``Chat`` between the bot and ``user`` (its id is the user's id)."""
    chat = {"id": user["id"], "type": "private"}
    chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
    return chat


def group_chat(chat_id: int, *, title: str = "Support group", chat_type: str = "group") -> JsonDict:
    """A ``Chat`` of type group, supergroup or channel (Telegram's ids for these are negative)."""
    if chat_type not in ("group", "supergroup", "channel"):
        raise ValueError(f"not a group chat type: {chat_type!r}")
    return {"id": chat_id, "type": chat_type, "title": title}


# --- waiting without sleeping ---------------------------------------------------------


class _Signal:
    """Wakes every waiter whenever something was recorded."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    async def wait_until(
        self, probe: Callable[[], T | None], *, timeout: float, what: Callable[[], str]
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := probe()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"waited {timeout}s for {what()}")
            await self.wait(remaining)
        return found


# --- request decoding -----------------------------------------------------------------


def _decode_params(raw: JsonDict) -> JsonDict:
    """Turns form strings into the types the Bot API declares; JSON bodies pass through."""
    params: JsonDict = {}
    for name, value in raw.items():
        params[name] = value
        if isinstance(value, str) and name in _JSON_PARAMS | _BOOL_PARAMS:
            try:
                params[name] = json.loads(value)
            except ValueError as exc:
                raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
        elif isinstance(value, str) and name in _INT_PARAMS:
            # chat_id may also be "@channelusername"; anything else non-numeric stays a string
            with contextlib.suppress(ValueError):
                params[name] = int(value)
    return params


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JsonDict]:
    """Telegram marks a leading ``/command`` (optionally ``@botname``) as a bot_command."""
    match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_length(match.group())}]


def _validate_reply_markup(markup: object) -> None:
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return  # reply keyboards and ForceReply are accepted as they are
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(400, "Bad Request: can't parse inline keyboard JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError(400, "Bad Request: inline keyboard button text must be non-empty")
            data = button.get("callback_data")
            if data is not None and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if len(set(button) - {"text"}) != 1:
                raise _ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )


def _update_type(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")


# --- the simulator --------------------------------------------------------------------


ApiMethod = Callable[[JsonDict], Awaitable[Any]]


class TelegramSimulator:
    """A fake Telegram Bot API on ``127.0.0.1``; see the module docstring.

    Use ``async with TelegramSimulator() as sim:`` or :meth:`start`/:meth:`stop`. Point a
    client at :attr:`api_url` (the root; requests go to ``{api_url}/bot{token}/{method}``).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "tandem_test_bot",
        bot_first_name: str = "Tandem",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        self.bot_user: JsonDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._host = host
        self._requested_port = port
        self._webhook_retry_delay = webhook_retry_delay
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False
        self.port: int | None = None

        self.calls: list[Call] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: list[JsonDict] = []
        self._signal = _Signal()
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._update_ids = itertools.count(500_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._pending: list[JsonDict] = []
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._webhook: _Webhook | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._chats: dict[int, JsonDict] = {}
        self._blocked: set[int] = set()
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._sent: dict[tuple[int, int], SentMessage] = {}
        self._open_queries: set[str] = set()
        self._polls_waiting = 0
        self._methods: dict[str, tuple[str, ApiMethod]] = {
            name.lower(): (name, method)
            for name, method in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getChat": self._get_chat,
                "leaveChat": self._leave_chat,
                "close": self._always_true,
                "logOut": self._always_true,
            }.items()
        }

    # --- lifecycle --------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:43121`` (the value of TELEGRAM_API_URL)."""
        if self.port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # A short shutdown timeout: pending long polls are woken by stop() anyway.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._closing = False
        self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        logger.info("Telegram simulator on %s", self.api_url)

    async def stop(self) -> None:
        self._closing = True
        self._signal.notify()  # returns every pending long poll
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- chats ------------------------------------------------------------------------

    def add_chat(self, chat: JsonDict) -> None:
        """Make a chat known, as if its customer had written first (sends to unknown chats
        fail with "chat not found", as they do for a real bot)."""
        self._chats[int(chat["id"])] = chat

    def block(self, chat_id: int) -> None:
        """The customer blocks the bot: every later send to the chat answers 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    # --- customer events --------------------------------------------------------------

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user: JsonDict | None = None,
        chat_type: str = "private",
    ) -> Injected:
        """A customer writes ``text``; a leading ``/command`` gets its bot_command entity."""
        content: JsonDict = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        return self._inject_message(chat_id, content, user=user, chat_type=chat_type)

    def send_command(
        self,
        chat_id: int,
        command: str,
        *,
        user: JsonDict | None = None,
        chat_type: str = "private",
    ) -> Injected:
        """A customer sends ``/command`` (``"/start"``, ``"/start@bot payload"``, ...)."""
        if not _command_entities(command):
            raise ValueError(f"not a bot command: {command!r}")
        return self.send_text(chat_id, command, user=user, chat_type=chat_type)

    def send_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        user: JsonDict | None = None,
        chat_type: str = "private",
    ) -> Injected:
        """A photo in the three sizes Telegram makes of it (smallest first)."""
        key = next(self._update_ids)
        sizes = [
            {
                "file_id": f"AgACAgIAAxkBAAI{key}x{width}",
                "file_unique_id": f"AQAD{key}x{width}",
                "width": width,
                "height": width * 3 // 4,
                "file_size": width * 60,
            }
            for width in (90, 320, 1280)
        ]
        return self._inject_message(
            chat_id, self._captioned({"photo": sizes}, caption), user=user, chat_type=chat_type
        )

    def send_sticker(
        self, chat_id: int, *, emoji: str = "\N{THUMBS UP SIGN}", user: JsonDict | None = None
    ) -> Injected:
        key = next(self._update_ids)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAI{key}",
            "file_unique_id": f"AgAD{key}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 24_000,
        }
        return self._inject_message(chat_id, {"sticker": sticker}, user=user)

    def send_voice(
        self, chat_id: int, *, duration: int = 3, user: JsonDict | None = None
    ) -> Injected:
        key = next(self._update_ids)
        voice = {
            "file_id": f"AwACAgIAAxkBAAI{key}",
            "file_unique_id": f"AgAD{key}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 4_000,
        }
        return self._inject_message(chat_id, {"voice": voice}, user=user)

    def send_document(
        self,
        chat_id: int,
        *,
        file_name: str = "invoice.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        user: JsonDict | None = None,
    ) -> Injected:
        key = next(self._update_ids)
        document = {
            "file_id": f"BQACAgIAAxkBAAI{key}",
            "file_unique_id": f"AgAD{key}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 52_000,
        }
        return self._inject_message(
            chat_id, self._captioned({"document": document}, caption), user=user
        )

    def send_location(
        self, chat_id: int, *, latitude: float, longitude: float, user: JsonDict | None = None
    ) -> Injected:
        location = {"latitude": latitude, "longitude": longitude}
        return self._inject_message(chat_id, {"location": location}, user=user)

    def send_contact(
        self,
        chat_id: int,
        *,
        phone_number: str,
        first_name: str,
        last_name: str | None = None,
        user: JsonDict | None = None,
    ) -> Injected:
        contact = {"phone_number": phone_number, "first_name": first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        return self._inject_message(chat_id, {"contact": contact}, user=user)

    def send_content(
        self,
        chat_id: int,
        content: JsonDict,
        *,
        user: JsonDict | None = None,
        chat_type: str = "private",
    ) -> Injected:
        """A message with any other content, e.g. ``{"audio": {...}}`` or ``{"dice": {...}}``."""
        return self._inject_message(chat_id, dict(content), user=user, chat_type=chat_type)

    def edit_text(self, chat_id: int, message_id: int, new_text: str) -> Injected:
        """The customer edits one of their text messages (an ``edited_message`` update)."""
        original = self._messages.get((chat_id, message_id))
        if original is None or "text" not in original or self._is_bot_message(original):
            raise ValueError(f"no customer text message {message_id} in chat {chat_id}")
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(text=new_text, edit_date=int(time.time()))
        if entities := _command_entities(new_text):
            edited["entities"] = entities
        self._messages[(chat_id, message_id)] = edited
        update_id = self._inject("edited_message", edited)
        return Injected(update_id=update_id, message_id=message_id)

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user: JsonDict | None = None
    ) -> Injected:
        """The customer presses the inline button carrying ``data`` under a bot message."""
        message = self._messages.get((chat_id, message_id))
        if message is None or not self._is_bot_message(message):
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        offered = {
            button.get("callback_data")
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        }
        if data not in offered:
            raise ValueError(f"message {message_id} has no button with data {data!r}")
        query_id = str(next(self._callback_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user or self._default_user(chat_id, message["chat"]["type"]),
            "message": message,
            "chat_instance": f"-{abs(chat_id) * 7919}",
            "data": data,
        }
        update_id = self._inject("callback_query", query)
        return Injected(update_id=update_id, callback_query_id=query_id)

    def send_raw_update(self, update: JsonDict) -> Injected:
        """Queue any update object; an ``update_id`` is added when it has none."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        for value in update.values():
            if isinstance(value, dict) and isinstance(value.get("chat"), dict):
                self._chats.setdefault(int(value["chat"]["id"]), value["chat"])
        self._queue_update(update)
        return Injected(update_id=int(update["update_id"]))

    # --- what the bot did -------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """The messages the bot sent to ``chat_id``, in order, as they look now."""
        return [sent for (chat, _), sent in self._sent.items() if chat == chat_id]

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates not yet confirmed by getUpdates or accepted by the webhook."""
        return list(self._pending)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
    ) -> Call:
        """The first recorded call to ``method`` (matching ``predicate``), once there is one."""
        calls = await self.wait_for_calls(method, 1, predicate, timeout=timeout)
        return calls[0]

    async def wait_for_calls(
        self,
        method: str,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> list[Call]:
        """All recorded calls to ``method`` (matching ``predicate``), once there are ``count``."""

        def probe() -> list[Call] | None:
            found = [c for c in self.calls_to(method) if predicate is None or predicate(c)]
            return found if len(found) >= count else None

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: (
                f"{count} call(s) to {method}; calls so far: "
                f"{[(c.method, c.status) for c in self.calls]}"
            ),
        )

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """The bot's messages to ``chat_id``, once there are at least ``count``."""

        def probe() -> list[SentMessage] | None:
            sent = self.messages_to(chat_id)
            return sent if len(sent) >= count else None

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: (
                f"{count} message(s) to chat {chat_id}; "
                f"got {[m.text[:40] for m in self.messages_to(chat_id)]}"
            ),
        )

    async def wait_for_long_poll(self, *, timeout: float = 5.0) -> None:
        """Returns once a getUpdates call is waiting here for updates."""
        await self._signal.wait_until(
            lambda: True if self._polls_waiting else None,
            timeout=timeout,
            what=lambda: "a getUpdates call",
        )

    async def wait_for_webhook_delivery(
        self, update_id: int, *, timeout: float = 5.0
    ) -> WebhookDelivery:
        """The first successful (2xx) webhook delivery of ``update_id``."""

        def probe() -> WebhookDelivery | None:
            return next(
                (
                    d
                    for d in self.webhook_deliveries
                    if d.update_id == update_id and d.status is not None and d.status < 300
                ),
                None,
            )

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: f"delivery of update {update_id}; got {self.webhook_deliveries}",
        )

    # --- faults -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error, before looking at them.

        429 carries ``parameters.retry_after`` as Telegram does; 403 defaults to "bot was
        blocked by the user"; any other status gets Telegram's usual description.
        """
        if status == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
            fault = _Fault(status, text, retry_after)
        else:
            text = description or _STATUS_DESCRIPTIONS.get(status, f"Error {status}")
            fault = _Fault(status, text, None)
        self._faults[method.lower()].extend([fault] * times)

    # --- HTTP -------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        name = request.match_info["method"]
        params: JsonDict = {}
        try:
            params = await self._read_params(request)
            name, method = self._method(name)
            result = await method(params)
        except _ApiError as exc:
            self._record(Call(name, params, arrived, exc.status))
            body: JsonDict = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.status)
        self._record(Call(name, params, arrived))
        if isinstance(result, _Described):
            return web.json_response(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return web.json_response({"ok": True, "result": result})

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    def _method(self, name: str) -> tuple[str, ApiMethod]:
        """The method's canonical name and implementation; raises an injected fault first."""
        canonical, method = self._methods.get(name.lower(), (name, None))
        if fault := self._next_fault(canonical):
            retry = {"retry_after": fault.retry_after} if fault.retry_after else None
            raise _ApiError(fault.status, fault.description, retry)
        if method is None:
            raise _ApiError(404, "Not Found: method not found")
        return canonical, method

    async def _read_params(self, request: web.Request) -> JsonDict:
        if request.match_info["token"] != self.token:
            raise _ApiError(401, "Unauthorized")
        return _decode_params(await self._read_raw_params(request))

    @staticmethod
    async def _read_raw_params(request: web.Request) -> JsonDict:
        params: JsonDict = dict(request.query)
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _ApiError(400, "Bad Request: can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: request body must be a JSON object")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                # Uploaded files are not stored: the call records only that one was sent.
                if isinstance(value, web.FileField):
                    params[key] = {"file_name": value.filename}
                else:
                    params[key] = value
        return params

    def _next_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method.lower())
        return queue.popleft() if queue else None

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._signal.notify()

    # --- Bot API methods --------------------------------------------------------------

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        if self._webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        self._confirm(int(params.get("offset", 0)))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout", 0)), 0.0)
        self._polls_waiting += 1
        self._signal.notify()
        try:
            while True:
                ready = self._deliverable()[:limit]
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing:
                    return ready
                await self._signal.wait(remaining)
        finally:
            self._polls_waiting -= 1

    async def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._writable_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        content: JsonDict = {"text": text}
        if "reply_markup" in params:
            _validate_reply_markup(params["reply_markup"])
            if "inline_keyboard" in params["reply_markup"]:
                content["reply_markup"] = params["reply_markup"]
        message = self._new_message(chat, self.bot_user, content)
        key = (chat["id"], message["message_id"])
        self._sent[key] = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=text,
            reply_markup=content.get("reply_markup"),
            parse_mode=params.get("parse_mode"),
        )
        return message

    async def _edit_message_text(self, params: JsonDict) -> JsonDict:
        key, message = self._editable_message(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            _validate_reply_markup(markup)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        return self._apply_edit(
            key, message, text=text, markup=markup, parse_mode=params.get("parse_mode")
        )

    async def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        key, message = self._editable_message(params)
        markup = params.get("reply_markup")
        if markup is not None:
            _validate_reply_markup(markup)
        if markup == message.get("reply_markup"):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        parse_mode = self._sent[key].parse_mode
        return self._apply_edit(
            key, message, text=message["text"], markup=markup, parse_mode=parse_mode
        )

    async def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text", ""))) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        return True

    async def _send_chat_action(self, params: JsonDict) -> bool:
        self._writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _set_webhook(self, params: JsonDict) -> _Described:
        url = str(params.get("url", ""))
        if not url:
            return await self._delete_webhook(params)
        if not re.match(r"https?://", url):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = _Webhook(
            url=url,
            secret_token=None if secret is None else str(secret),
            max_connections=int(params.get("max_connections", 40)),
        )
        self._webhook_error = None
        self._signal.notify()
        return _Described(True, "Webhook was set")

    async def _delete_webhook(self, params: JsonDict) -> _Described:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        was_set, self._webhook = self._webhook is not None, None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    async def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return list(self.commands)

    async def _delete_my_commands(self, params: JsonDict) -> bool:
        self.commands = []
        return True

    async def _get_chat(self, params: JsonDict) -> JsonDict:
        chat = self._known_chat(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _leave_chat(self, params: JsonDict) -> bool:
        chat = self._known_chat(params)
        if chat["type"] == "private":
            raise _ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        return True

    async def _always_true(self, params: JsonDict) -> bool:
        return True

    # --- chats and messages -----------------------------------------------------------

    def _known_chat(self, params: JsonDict) -> JsonDict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, params: JsonDict) -> JsonDict:
        chat = self._known_chat(params)
        if chat["id"] in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _editable_message(self, params: JsonDict) -> tuple[tuple[int, int], JsonDict]:
        if "inline_message_id" in params:
            raise _ApiError(400, "Bad Request: inline messages are not simulated")
        chat = self._writable_chat(params)
        key = (chat["id"], int(params.get("message_id", 0)))
        message = self._messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not self._is_bot_message(message) or "text" not in message:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return key, message

    def _apply_edit(
        self,
        key: tuple[int, int],
        message: JsonDict,
        *,
        text: str,
        markup: JsonDict | None,
        parse_mode: str | None,
    ) -> JsonDict:
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        edited.update(text=text, edit_date=int(time.time()))
        if markup is not None and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        self._messages[key] = edited
        sent = self._sent[key]
        self._sent[key] = replace(
            sent,
            text=text,
            reply_markup=edited.get("reply_markup"),
            parse_mode=parse_mode,
            edited=True,
        )
        self._signal.notify()
        return edited

    def _is_bot_message(self, message: JsonDict) -> bool:
        return bool(message.get("from", {}).get("id") == self.bot_user["id"])

    def _new_message(self, chat: JsonDict, sender: JsonDict | None, content: JsonDict) -> JsonDict:
        message: JsonDict = {"message_id": next(self._message_ids[chat["id"]])}
        if sender is not None:
            message["from"] = sender
        else:
            message["sender_chat"] = chat  # channel posts have no sending user
        message.update(chat=chat, date=int(time.time()), **content)
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _default_user(self, chat_id: int, chat_type: str) -> JsonDict:
        return telegram_user(chat_id if chat_type == "private" else 1_000_001)

    def _inject_message(
        self,
        chat_id: int,
        content: JsonDict,
        *,
        user: JsonDict | None,
        chat_type: str = "private",
    ) -> Injected:
        if chat_type == "private":
            sender = user or self._default_user(chat_id, chat_type)
            chat = self._chats.get(chat_id) or private_chat({**sender, "id": chat_id})
        else:
            chat = self._chats.get(chat_id) or group_chat(chat_id, chat_type=chat_type)
            sender = user or self._default_user(chat_id, chat_type)
        self._chats[chat_id] = chat
        if chat["type"] == "channel":
            message = self._new_message(chat, None, content)
            update_id = self._inject("channel_post", message)
        else:
            message = self._new_message(chat, sender, content)
            update_id = self._inject("message", message)
        return Injected(update_id=update_id, message_id=message["message_id"])

    @staticmethod
    def _captioned(content: JsonDict, caption: str | None) -> JsonDict:
        return content if caption is None else {**content, "caption": caption}

    # --- the update queue -------------------------------------------------------------

    def _inject(self, update_type: str, payload: JsonDict) -> int:
        update_id = next(self._update_ids)
        self._queue_update({"update_id": update_id, update_type: payload})
        return update_id

    def _queue_update(self, update: JsonDict) -> None:
        self._pending.append(update)
        self._signal.notify()

    def _set_allowed_updates(self, allowed: Iterable[str] | None) -> None:
        # An empty list restores Telegram's default set.
        self._allowed_updates = frozenset(allowed) if allowed else None

    def _is_allowed(self, update: JsonDict) -> bool:
        kind = _update_type(update)
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _deliverable(self) -> list[JsonDict]:
        """The pending updates the bot asked for; the others are dropped, as Telegram does."""
        self._pending = [update for update in self._pending if self._is_allowed(update)]
        return list(self._pending)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _deliver_to_webhook(self) -> None:
        """POSTs pending updates to the webhook in order, retrying until one is accepted."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not self._closing:
                webhook = self._webhook
                ready = self._deliverable() if webhook is not None else []
                if webhook is None or not ready:
                    await self._signal.wait(None)
                    continue
                update = ready[0]
                delivery = await self._post_update(session, webhook, update)
                self.webhook_deliveries.append(delivery)
                if delivery.status is not None and 200 <= delivery.status < 300:
                    self._pending = [u for u in self._pending if u is not update]
                    self._signal.notify()
                else:
                    self._webhook_error = (int(time.time()), delivery.error or "")
                    self._signal.notify()
                    await asyncio.sleep(self._webhook_retry_delay)

    async def _post_update(
        self, session: aiohttp.ClientSession, webhook: _Webhook, update: JsonDict
    ) -> WebhookDelivery:
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        at = time.monotonic()
        try:
            async with session.post(webhook.url, json=update, headers=headers) as response:
                await response.read()
                error = None
                if response.status >= 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                return WebhookDelivery(update["update_id"], response.status, at, error)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return WebhookDelivery(update["update_id"], None, at, f"Connection failed: {exc}")


# --- running it alone -----------------------------------------------------------------


async def _serve(*, host: str, port: int, token: str) -> None:
    async with TelegramSimulator(host=host, port=port, token=token) as simulator:
        print(f"Telegram Bot API simulator: TELEGRAM_API_URL={simulator.api_url}", flush=True)
        print(f"token: {simulator.token}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local Telegram Bot API simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host=args.host, port=args.port, token=args.token))


if __name__ == "__main__":
    main()
