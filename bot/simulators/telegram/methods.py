"""The Bot API methods: each reads its decoded parameters, changes the simulated state, and
returns its result or raises :class:`~.answers.ApiError`.

Only what a support bot uses is here; anything else answers 404 "method not found". HTTP,
the token and injected faults are the server's business.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .answers import ApiError, Described
from .chats import Chats
from .files import MAX_DOWNLOAD_SIZE, FileStore
from .records import JsonDict, SentMessage, Signal
from .updates import UpdateQueue
from .validation import check_text, validate_reply_markup
from .webhook import Webhook, WebhookSender

ApiMethod = Callable[[JsonDict], Awaitable[Any]]

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
# The bot may delete its own messages in a private chat for 48 hours.
DELETE_WINDOW = 48 * 3600
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)


class BotApi:
    def __init__(
        self,
        *,
        chats: Chats,
        updates: UpdateQueue,
        webhook: WebhookSender,
        files: FileStore,
        open_queries: set[str],
        signal: Signal,
    ) -> None:
        self.commands: list[JsonDict] = []
        self.polls_waiting = 0  # getUpdates calls waiting for updates right now
        self.closing = False  # set while the server stops: long polls return at once
        self._chats = chats
        self._updates = updates
        self._webhook = webhook
        self._files = files
        self._open_queries = open_queries  # callback queries not yet answered
        self._signal = signal
        self._methods: dict[str, tuple[str, ApiMethod]] = {
            name.lower(): (name, method)
            for name, method in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getFile": self._get_file,
                "getChat": self._get_chat,
                "leaveChat": self._leave_chat,
                "close": self._always_true,
                "logOut": self._always_true,
            }.items()
        }

    def lookup(self, name: str) -> tuple[str, ApiMethod | None]:
        """The method's canonical name (method names are case-insensitive) and implementation."""
        return self._methods.get(name.lower(), (name, None))

    # --- the bot and its updates ------------------------------------------------------

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self._chats.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        if self._webhook.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._updates.set_allowed(params["allowed_updates"])
        self._updates.confirm(int(params.get("offset", 0)))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout", 0)), 0.0)
        self.polls_waiting += 1
        self._signal.notify()
        try:
            while True:
                ready = self._updates.deliverable()[:limit]
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self.closing:
                    return ready
                await self._signal.wait(remaining)
        finally:
            self.polls_waiting -= 1

    async def _set_webhook(self, params: JsonDict) -> Described:
        url = str(params.get("url", ""))
        if not url:
            return await self._delete_webhook(params)
        if not re.match(r"https?://", url):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._updates.set_allowed(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._updates.drop_all()
        self._webhook.set(
            Webhook(
                url=url,
                secret_token=None if secret is None else str(secret),
                max_connections=int(params.get("max_connections", 40)),
            )
        )
        return Described(True, "Webhook was set")

    async def _delete_webhook(self, params: JsonDict) -> Described:
        if params.get("drop_pending_updates"):
            self._updates.drop_all()
        was_set = self._webhook.delete()
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        webhook = self._webhook.webhook
        info: JsonDict = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates.pending),
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if self._updates.allowed is not None:
                info["allowed_updates"] = sorted(self._updates.allowed)
        if self._webhook.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook.last_error
        return info

    # --- messages -----------------------------------------------------------------------

    async def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._chats.writable_chat(params)
        text = check_text(params.get("text"))
        content: JsonDict = {"text": text}
        if "reply_markup" in params:
            validate_reply_markup(params["reply_markup"])
            if "inline_keyboard" in params["reply_markup"]:
                content["reply_markup"] = params["reply_markup"]
        message = self._chats.new_message(chat, self._chats.bot_user, content)
        key = (chat["id"], message["message_id"])
        self._chats.sent[key] = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=text,
            reply_markup=content.get("reply_markup"),
            parse_mode=params.get("parse_mode"),
        )
        return message

    async def _edit_message_text(self, params: JsonDict) -> JsonDict:
        key, message = self._chats.editable_message(params)
        text = check_text(params.get("text"))
        markup = params.get("reply_markup")
        if markup is not None:
            validate_reply_markup(markup)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        return self._chats.apply_edit(
            key, message, text=text, markup=markup, parse_mode=params.get("parse_mode")
        )

    async def _delete_message(self, params: JsonDict) -> bool:
        """The bot's own message, within Telegram's 48 hours."""
        chat = self._chats.writable_chat(params)
        key = (chat["id"], int(params.get("message_id", 0)))
        message = self._chats.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        if time.time() - float(message.get("date", 0)) > DELETE_WINDOW:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")
        self._chats.delete(key)
        return True

    async def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        key, message = self._chats.editable_message(params)
        markup = params.get("reply_markup")
        if markup is not None:
            validate_reply_markup(markup)
        if markup == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        parse_mode = self._chats.sent[key].parse_mode
        return self._chats.apply_edit(
            key, message, text=message["text"], markup=markup, parse_mode=parse_mode
        )

    async def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        return True

    async def _send_chat_action(self, params: JsonDict) -> bool:
        self._chats.writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # --- files -------------------------------------------------------------------------

    async def _get_file(self, params: JsonDict) -> JsonDict:
        stored = self._files.by_id(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.described()

    # --- commands and chats -------------------------------------------------------------

    async def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    async def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return list(self.commands)

    async def _delete_my_commands(self, params: JsonDict) -> bool:
        self.commands = []
        return True

    async def _get_chat(self, params: JsonDict) -> JsonDict:
        chat = self._chats.known_chat(params)
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
        chat = self._chats.known_chat(params)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        return True

    async def _always_true(self, params: JsonDict) -> bool:
        return True
