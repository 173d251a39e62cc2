""":class:`~handoff.model.Outbound` to Bot API parameters: chat ids, keyboards, text chunks."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.warnings import PTBUserWarning

from bot.adapters.text import split_text as text_pieces
from bot.adapters.text import utf16_length
from handoff.errors import DeliveryError
from handoff.model import Button, ConversationKey

from .inbound import CHANNEL

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit, in UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64
SEND_MESSAGE = "send_message"

# Messages go out through Bot.do_api_request, which returns Telegram's answer as it came:
# Bot.send_message builds a Message of it (user, chat, keyboard: about 0.2 ms of CPU per
# message, tandem bench load) for the one field Tandem reads, its id. do_api_request
# advises the named method for a known endpoint; here that is the point, not a mistake.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.send_message' instead", category=PTBUserWarning
)


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


def send_message_kwargs(
    chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> dict[str, Any]:
    """sendMessage's parameters: plain text (no parse mode: no default may ever read a
    customer's or an agent's text as markup), the keyboard when there is one."""
    kwargs: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if keyboard is not None:
        kwargs["reply_markup"] = keyboard
    return kwargs


def sent_message_id(answer: object) -> str:
    """The message id in sendMessage's answer; DeliveryError for an answer without one."""
    message_id = answer.get("message_id") if isinstance(answer, dict) else None
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise DeliveryError(f"sendMessage answered without a message id: {answer!r}"[:300])
    return str(message_id)


# A reply sent in several messages goes by their ids joined ("101+102+103", the one with
# the buttons last): the core keeps it as the reply's id, and edits and deletes all of them.
PART_SEPARATOR = "+"


def joined_ids(ids: Sequence[str]) -> str:
    return PART_SEPARATOR.join(ids)


def part_ids(message_id: str) -> list[int]:
    """The Telegram ids of the messages a reply was sent as (see :data:`PART_SEPARATOR`)."""
    return [int(part) for part in message_id.split(PART_SEPARATOR)]


def spread_text(text: str, parts: int, limit: int = MAX_MESSAGE_LENGTH) -> list[str] | None:
    """``text`` in exactly ``parts`` chunks Telegram accepts, to edit a reply sent as that
    many messages: the fewest chunks, then the longest cut in two at a line break (else a
    space) nearest its middle until there are enough. None when it needs more messages, or
    has too few words to fill them (a word is never cut for it)."""
    chunks = split_text(text, limit)
    while len(chunks) < parts:
        longest = max(range(len(chunks)), key=lambda i: utf16_length(chunks[i]))
        halves = _halves(chunks[longest])
        if halves is None:
            return None
        chunks[longest : longest + 1] = halves
    return chunks if len(chunks) == parts else None


def _halves(chunk: str) -> list[str] | None:
    middle = len(chunk) // 2
    for separator in ("\n", " "):
        cuts = [
            i
            for i, character in enumerate(chunk)
            if character == separator and chunk[:i].strip() and chunk[i + 1 :].strip()
        ]
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle))
            return [chunk[:cut], chunk[cut + 1 :]]
    return None


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """``text`` in chunks Telegram accepts (see :func:`bot.adapters.text.split_text`)."""
    if not text.strip():
        raise ValueError("Telegram refuses a message without text")
    return text_pieces(text, limit)
