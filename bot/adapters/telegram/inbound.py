"""Telegram updates to :class:`~handoff.model.Inbound`: translation only, no decisions."""

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

logger = logging.getLogger(__name__)

CHANNEL = "telegram"


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
    return ConversationKey(CHANNEL, str(chat_id))


def _customer(user: User) -> Customer:
    return Customer(
        user_id=str(user.id),
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
    )


def _chat_type(telegram_type: str) -> ChatType:
    return ChatType.PRIVATE if telegram_type == TelegramChatType.PRIVATE else ChatType.GROUP


def _aware(moment: datetime) -> datetime:
    # PTB returns UTC-aware datetimes unless told otherwise; never hand on a naive one.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _button(query: CallbackQuery) -> Inbound | None:
    message = query.message
    if message is None or query.data is None:
        # inline-mode messages and game buttons: not something this bot sends
        logger.debug("ignoring callback query %s: no chat message or no data", query.id)
        return None
    return Inbound(
        key=conversation_key(message.chat.id),
        customer=_customer(query.from_user),
        message_id=query.id,
        kind=MessageKind.BUTTON,
        # A button press carries no timestamp of its own; it arrives as it happens.
        sent_at=datetime.now(UTC),
        button=query.data,
        button_message_id=str(message.message_id),
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
        message_id=str(message.message_id),
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
    if (file := _file(message)) is not None:
        kind, attachment = file
        caption = None if kind in (MessageKind.STICKER, MessageKind.VIDEO_NOTE) else message.caption
        return kind, caption, None, attachment
    if (place := _place(message)) is not None:
        return place
    if message.effective_attachment is not None:
        return MessageKind.OTHER, message.caption, None, None  # polls, dice, games, stories...
    # Service messages (members joined, a message pinned, ...) are not customers' acts.
    logger.debug("ignoring message %s: a service message", message.message_id)
    return None


def _file(message: Message) -> tuple[MessageKind, Attachment] | None:
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return MessageKind.PHOTO, Attachment(largest.file_id, size=largest.file_size)
    if message.sticker is not None:
        sticker = message.sticker
        sticker_mime = _STICKER_MIME[(sticker.is_video, sticker.is_animated)]
        return MessageKind.STICKER, Attachment(
            sticker.file_id, None, sticker_mime, sticker.file_size
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
            name: str | None = getattr(media, "file_name", None)
            mime: str | None = getattr(media, "mime_type", None)
            return kind, Attachment(media.file_id, name, mime, media.file_size)
    return None


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
        venue = message.venue
        return MessageKind.LOCATION, f"{venue.title}, {venue.address}", None, None
    if message.location is not None:
        where = f"{message.location.latitude},{message.location.longitude}"
        return MessageKind.LOCATION, where, None, None
    if message.contact is not None:
        contact = message.contact
        parts = (contact.first_name, contact.last_name, contact.phone_number)
        return MessageKind.CONTACT, " ".join(p for p in parts if p), None, None
    return None


def _text(message: Message, *, bot_username: str | None) -> _Content | None:
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return MessageKind.TEXT, text, None, None
    token = message.parse_entity(entity)  # "/start" or "/start@ThisBot"
    name, _, addressee = token[1:].partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        logger.debug("ignoring message %s: a command for @%s", message.message_id, addressee)
        return None
    arguments = text[len(token) :].strip()
    return MessageKind.COMMAND, arguments or None, name.lower(), None
