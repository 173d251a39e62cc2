"""Telegram updates to :class:`~handoff.model.Inbound`: translation only, no decisions.

PTB decodes an update without checking the types of its fields, so a ``text`` that is a
list reaches here as a list: every string handed on is checked (:class:`UnreadableUpdate`
otherwise) and made encodable (:func:`~handoff.storage.sanitize.clean_text`: a lone
surrogate would fail the NLU's JSON and every database, and the message would be lost).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import CallbackQuery, Message, MessageEntity, Update, User
from telegram.constants import ChatType as TelegramChatType

from handoff.model import (
    Attachment,
    ChatType,
    ConversationKey,
    Customer,
    Inbound,
    MessageKind,
)
from handoff.storage.sanitize import clean_text

logger = logging.getLogger(__name__)

CHANNEL = "telegram"


class UnreadableUpdate(ValueError):
    """An update PTB decoded whose fields are not what Telegram sends (a list for a text)."""


def to_inbound(update: Update, *, bot_username: str | None) -> Inbound | None:
    """The customer event in ``update``, or None when it carries nothing a customer did.

    ``bot_username`` tells commands addressed to this bot (``/start@ThisBot``) from commands
    for another bot in the same group, which are ignored.
    """
    if update.callback_query is not None:
        return _button(update.callback_query)
    if update.message is not None:
        return _message(update.message, edited=False, bot_username=bot_username)
    if update.edited_message is not None:
        return _message(update.edited_message, edited=True, bot_username=bot_username)
    # channel posts, membership changes, reactions, inline queries, ...: nothing to answer
    logger.debug("ignoring update %s: no customer message in it", update.update_id)
    return None


def conversation_key(chat_id: int) -> ConversationKey:
    return ConversationKey(CHANNEL, str(_integer(chat_id, "chat id")))


def _string(value: object, what: str) -> str | None:
    """``value`` made encodable; raises :class:`UnreadableUpdate` unless a string or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableUpdate(f"its {what} is a {type(value).__name__}, not a string")
    return clean_text(value)


def _integer(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnreadableUpdate(f"its {what} is a {type(value).__name__}, not an integer")
    return value


def _customer(user: User) -> Customer:
    names = (_string(user.first_name, "first name"), _string(user.last_name, "last name"))
    return Customer(
        user_id=str(_integer(user.id, "user id")),
        display_name=" ".join(name for name in names if name),  # as PTB's full_name
        username=_string(user.username, "username"),
        language_code=_string(user.language_code, "language code"),
    )


def _chat_type(telegram_type: str) -> ChatType:
    return ChatType.PRIVATE if telegram_type == TelegramChatType.PRIVATE else ChatType.GROUP


def _aware(moment: datetime) -> datetime:
    # PTB returns UTC-aware datetimes unless told otherwise; never hand on a naive one.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _button(query: CallbackQuery) -> Inbound | None:
    message = query.message
    data = _string(query.data, "button data")
    if message is None or data is None:
        # inline-mode messages and game buttons: not something this bot sends
        logger.debug("ignoring callback query %s: no chat message or no data", query.id)
        return None
    return Inbound(
        key=conversation_key(message.chat.id),
        customer=_customer(query.from_user),
        message_id=str(_string(query.id, "callback query id")),
        kind=MessageKind.BUTTON,
        # A button press carries no timestamp of its own; it arrives as it happens.
        sent_at=datetime.now(UTC),
        button=data,
        button_message_id=str(_integer(message.message_id, "message id")),
        chat_type=_chat_type(message.chat.type),
    )


def _message(message: Message, *, edited: bool, bot_username: str | None) -> Inbound | None:
    user = message.from_user
    if user is None:
        logger.debug("ignoring message %s: no sending user", message.message_id)
        return None
    content = _content(message, bot_username=bot_username)
    if content is None:
        return None
    kind, text, command, attachment = content
    sent_at = message.edit_date if edited and message.edit_date else message.date
    return Inbound(
        key=conversation_key(message.chat.id),
        customer=_customer(user),
        message_id=str(_integer(message.message_id, "message id")),
        kind=kind,
        sent_at=_aware(sent_at),
        text=text,
        command=command,
        chat_type=_chat_type(message.chat.type),
        edited=edited,
        attachment=attachment,
    )


_Content = tuple[MessageKind, str | None, str | None, Attachment | None]


def _content(message: Message, *, bot_username: str | None) -> _Content | None:
    """What the message carries: its kind, text (or caption), command and attachment."""
    if message.text is not None:
        return _text(message, bot_username=bot_username)
    caption = _string(message.caption, "caption")
    if (file := _file(message)) is not None:
        kind, attachment = file
        shown = None if kind in (MessageKind.STICKER, MessageKind.VIDEO_NOTE) else caption
        return kind, shown, None, attachment
    if (place := _place(message)) is not None:
        return place
    if message.effective_attachment is not None:
        return MessageKind.OTHER, caption, None, None  # polls, dice, games, stories...
    # Service messages (members joined, a message pinned, ...) are not customers' acts.
    logger.debug("ignoring message %s: a service message", message.message_id)
    return None


def _file(message: Message) -> tuple[MessageKind, Attachment] | None:
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return MessageKind.PHOTO, Attachment(_file_id(largest.file_id), size=largest.file_size)
    if message.sticker is not None:
        sticker = message.sticker
        sticker_mime = _STICKER_MIME[(bool(sticker.is_video), bool(sticker.is_animated))]
        return MessageKind.STICKER, Attachment(
            _file_id(sticker.file_id), None, sticker_mime, sticker.file_size
        )
    # An animation (GIF) message carries a document too: look at the animation first.
    for kind, media in (
        (MessageKind.ANIMATION, message.animation),
        (MessageKind.AUDIO, message.audio),
        (MessageKind.VIDEO, message.video),
        (MessageKind.VOICE, message.voice),
        (MessageKind.VIDEO_NOTE, message.video_note),
        (MessageKind.DOCUMENT, message.document),
    ):
        if media is not None:
            # voice messages have no file name, video notes neither name nor MIME type
            name = _string(getattr(media, "file_name", None), "file name")
            mime = _string(getattr(media, "mime_type", None), "MIME type")
            return kind, Attachment(_file_id(media.file_id), name, mime, media.file_size)
    return None


def _file_id(value: object) -> str:
    return str(_string(value, "file id"))


# (is_video, is_animated) -> the format Telegram stores the sticker in
_STICKER_MIME = {
    (True, False): "video/webm",
    (True, True): "video/webm",
    (False, True): "application/x-tgsticker",
    (False, False): "image/webp",
}


def _place(message: Message) -> _Content | None:
    # The neutral model has no fields for these; the text keeps them for the agent.
    if message.venue is not None:
        title = _string(message.venue.title, "venue title")
        address = _string(message.venue.address, "venue address")
        return MessageKind.LOCATION, f"{title}, {address}", None, None
    if message.location is not None:
        where = f"{message.location.latitude},{message.location.longitude}"
        return MessageKind.LOCATION, where, None, None
    if message.contact is not None:
        contact = message.contact
        fields = (
            (contact.first_name, "contact's first name"),
            (contact.last_name, "contact's last name"),
            (contact.phone_number, "contact's phone number"),
        )
        parts = (_string(value, what) for value, what in fields)
        return MessageKind.CONTACT, " ".join(p for p in parts if p), None, None
    return None


def _text(message: Message, *, bot_username: str | None) -> _Content | None:
    text = _string(message.text, "text") or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return MessageKind.TEXT, text, None, None
    token = _command_token(text, _integer(entity.length, "command length"))
    name, _, addressee = token[1:].partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        logger.debug("ignoring message %s: a command for @%s", message.message_id, addressee)
        return None
    arguments = text[len(token) :].strip()
    return MessageKind.COMMAND, arguments or None, name.lower(), None


def _command_token(text: str, length: int) -> str:
    """The command at the start of ``text`` (``"/start"`` or ``"/start@ThisBot"``).

    Entities count UTF-16 code units, as ``Message.parse_entity`` does; that fails on the
    raw text when it holds a lone surrogate, so the cleaned text (which has as many code
    units: U+FFFD replaces one unit with one) is cut here.
    """
    units = text.encode("utf-16-le")[: 2 * max(length, 0)]
    return units.decode("utf-16-le", "replace")
