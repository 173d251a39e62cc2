""":class:`~handoff.model.Outbound` to Bot API parameters: chat ids, keyboards, text chunks."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.text import split_text as text_pieces
from handoff.model import Button, ConversationKey

from .inbound import CHANNEL

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit, in UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64


def chat_id_of(key: ConversationKey) -> int:
    if key.channel != CHANNEL:
        raise ValueError(f"{key} is not a Telegram conversation")
    try:
        return int(key.chat_id)
    except ValueError:
        raise ValueError(f"{key}: a Telegram chat id is an integer") from None


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The inline keyboard for ``rows``; raises ValueError for a button Telegram would refuse."""
    for row in rows:
        for button in row:
            if not button.label.strip():
                raise ValueError(f"button {button.data!r} has an empty label")
            size = len(button.data.encode())
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise ValueError(
                    f"button {button.label!r}: data must be 1-{MAX_CALLBACK_DATA_BYTES} bytes "
                    f"in UTF-8, got {size}"
                )
    keyboard = [
        [InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows if row
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """``text`` in chunks Telegram accepts (see :func:`bot.adapters.text.split_text`)."""
    if not text.strip():
        raise ValueError("Telegram refuses a message without text")
    return text_pieces(text, limit)
