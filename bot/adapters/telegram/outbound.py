""":class:`~handoff.model.Outbound` to Bot API parameters: chat ids, keyboards, text chunks."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

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
    """``text`` in chunks Telegram accepts, cut at line breaks, else spaces, else anywhere.

    A chunk ends at the last line break (or space) in the second half of the room it has,
    so that no chunk is much shorter than it needs to be. The separator at a cut is dropped;
    chunks with nothing but whitespace are left out, as Telegram refuses them.
    """
    if not text.strip():
        raise ValueError("Telegram refuses a message without text")
    chunks: list[str] = []
    rest = text
    while _utf16_length(rest) > limit:
        window = rest[: _fitting(rest, limit)]
        end, resume = _cut(window)
        chunks.append(rest[:end])
        rest = rest[resume:]
    chunks.append(rest)
    return [chunk for chunk in chunks if chunk.strip()]


def _cut(window: str) -> tuple[int, int]:
    """Where the chunk in ``window`` ends, and where the next one starts."""
    newline = window.rfind("\n")
    space = max(window.rfind(" "), window.rfind("\t"))
    half = len(window) // 2
    for position in (newline, space):
        if position > half:
            return position, position + 1
    for position in (newline, space):
        if position > 0:
            return position, position + 1
    return len(window), len(window)


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
