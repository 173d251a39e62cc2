"""What customers do, injected as updates: messages of every kind, edits and button presses.

:class:`CustomerEvents` is the half of :class:`~.server.TelegramSimulator` that tests call
to play the customer.
"""

from __future__ import annotations

import itertools
import time

from .chats import Chats
from .files import FileStore
from .records import Injected, JsonDict
from .updates import UpdateQueue
from .users import group_chat, private_chat, telegram_user
from .validation import command_entities


class CustomerEvents:
    def __init__(
        self, *, chats: Chats, updates: UpdateQueue, files: FileStore, open_queries: set[str]
    ) -> None:
        self._chats = chats
        self._updates = updates
        self._files = files
        self._open_queries = open_queries
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)

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
        if entities := command_entities(text):
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
        if not command_entities(command):
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
        """A photo in the three sizes Telegram makes of it (smallest first); each downloads as
        :data:`~.files.PHOTO_CONTENT`."""
        key = self._updates.next_id()
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
            chat_id, _captioned({"photo": sizes}, caption), user=user, chat_type=chat_type
        )

    def send_sticker(
        self, chat_id: int, *, emoji: str = "\N{THUMBS UP SIGN}", user: JsonDict | None = None
    ) -> Injected:
        key = self._updates.next_id()
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
        key = self._updates.next_id()
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
        content: bytes | None = None,
    ) -> Injected:
        """A file; it downloads as ``content`` (and has its size) when given, else as a
        stand-in line naming it."""
        key = self._updates.next_id()
        document = {
            "file_id": f"BQACAgIAAxkBAAI{key}",
            "file_unique_id": f"AgAD{key}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 52_000 if content is None else len(content),
        }
        self._files.keep("document", document, content)
        return self._inject_message(chat_id, _captioned({"document": document}, caption), user=user)

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
        original = self._chats.messages.get((chat_id, message_id))
        if original is None or "text" not in original or self._chats.is_bot_message(original):
            raise ValueError(f"no customer text message {message_id} in chat {chat_id}")
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(text=new_text, edit_date=int(time.time()))
        if entities := command_entities(new_text):
            edited["entities"] = entities
        self._chats.messages[(chat_id, message_id)] = edited
        update_id = self._updates.inject("edited_message", edited)
        return Injected(update_id=update_id, message_id=message_id)

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user: JsonDict | None = None
    ) -> Injected:
        """The customer presses the inline button carrying ``data`` under a bot message."""
        message = self._chats.messages.get((chat_id, message_id))
        if message is None or not self._chats.is_bot_message(message):
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
            "from": user or _default_user(chat_id, message["chat"]["type"]),
            "message": message,
            "chat_instance": f"-{abs(chat_id) * 7919}",
            "data": data,
        }
        update_id = self._updates.inject("callback_query", query)
        return Injected(update_id=update_id, callback_query_id=query_id)

    def send_malformed(
        self, chat_id: int, fields: JsonDict, *, user: JsonDict | None = None
    ) -> Injected:
        """A customer's text message with ``fields`` written over it as given, e.g.
        ``{"date": 10**15}`` (a year past 9999) or ``{"text": ["a", "list"]}``: an update
        that a client library may fail to decode. The bot API serves it as any other."""
        injected = self.send_text(chat_id, "malformed", user=user)
        assert injected.message_id is not None  # a message was injected
        # The queued update holds this very dict, so the change reaches the bot.
        self._chats.messages[(chat_id, injected.message_id)].update(fields)
        return injected

    def send_raw_update(self, update: JsonDict) -> Injected:
        """Queue any update object; an ``update_id`` is added when it has none."""
        update = dict(update)
        update.setdefault("update_id", self._updates.next_id())
        for value in update.values():
            if isinstance(value, dict) and isinstance(value.get("chat"), dict):
                self._chats.known.setdefault(int(value["chat"]["id"]), value["chat"])
        self._updates.queue(update)
        return Injected(update_id=int(update["update_id"]))

    def _inject_message(
        self,
        chat_id: int,
        content: JsonDict,
        *,
        user: JsonDict | None,
        chat_type: str = "private",
    ) -> Injected:
        known = self._chats.known
        if chat_type == "private":
            sender = user or _default_user(chat_id, chat_type)
            chat = known.get(chat_id) or private_chat({**sender, "id": chat_id})
        else:
            chat = known.get(chat_id) or group_chat(chat_id, chat_type=chat_type)
            sender = user or _default_user(chat_id, chat_type)
        known[chat_id] = chat
        self._files.keep_all(content)  # whatever file the customer sent, the bot can fetch
        if chat["type"] == "channel":
            message = self._chats.new_message(chat, None, content)
            update_id = self._updates.inject("channel_post", message)
        else:
            message = self._chats.new_message(chat, sender, content)
            update_id = self._updates.inject("message", message)
        return Injected(update_id=update_id, message_id=message["message_id"])


def _default_user(chat_id: int, chat_type: str) -> JsonDict:
    return telegram_user(chat_id if chat_type == "private" else 1_000_001)


def _captioned(content: JsonDict, caption: str | None) -> JsonDict:
    return content if caption is None else {**content, "caption": caption}
