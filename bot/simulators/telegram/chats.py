"""The chats the simulator knows and every message in them, the bot's and the customers'."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import replace

from .answers import ApiError
from .records import JsonDict, SentMessage, Signal

MessageKey = tuple[int, int]  # (chat id, message id)


class Chats:
    def __init__(self, *, bot_user: JsonDict, signal: Signal) -> None:
        self.bot_user = bot_user
        self.known: dict[int, JsonDict] = {}
        self.blocked: set[int] = set()
        self.messages: dict[MessageKey, JsonDict] = {}
        self.sent: dict[MessageKey, SentMessage] = {}  # the bot's messages, as shown now
        self._signal = signal
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )

    def known_chat(self, params: JsonDict) -> JsonDict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self.known.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def writable_chat(self, params: JsonDict) -> JsonDict:
        chat = self.known_chat(params)
        if chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def editable_message(self, params: JsonDict) -> tuple[MessageKey, JsonDict]:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not simulated")
        chat = self.writable_chat(params)
        key = (chat["id"], int(params.get("message_id", 0)))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not self.is_bot_message(message) or "text" not in message:
            raise ApiError(400, "Bad Request: message can't be edited")
        return key, message

    def apply_edit(
        self,
        key: MessageKey,
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
        self.messages[key] = edited
        sent = self.sent[key]
        self.sent[key] = replace(
            sent,
            text=text,
            reply_markup=edited.get("reply_markup"),
            parse_mode=parse_mode,
            edited=True,
        )
        self._signal.notify()
        return edited

    def delete(self, key: MessageKey) -> None:
        del self.messages[key]
        if key in self.sent:
            self.sent[key] = replace(self.sent[key], deleted=True)
        self._signal.notify()

    def is_bot_message(self, message: JsonDict) -> bool:
        return bool(message.get("from", {}).get("id") == self.bot_user["id"])

    def new_message(self, chat: JsonDict, sender: JsonDict | None, content: JsonDict) -> JsonDict:
        message: JsonDict = {"message_id": next(self._message_ids[chat["id"]])}
        if sender is not None:
            message["from"] = sender
        else:
            message["sender_chat"] = chat  # channel posts have no sending user
        message.update(chat=chat, date=int(time.time()), **content)
        self.messages[(chat["id"], message["message_id"])] = message
        return message
