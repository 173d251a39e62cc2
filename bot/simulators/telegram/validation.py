"""The checks Telegram makes on what a bot sends: text lengths, commands, inline keyboards."""

from __future__ import annotations

import re

from .answers import ApiError
from .records import JsonDict

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, Telegram's limit for a message's text
MAX_CALLBACK_DATA_BYTES = 64


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JsonDict]:
    """Telegram marks a leading ``/command`` (optionally ``@botname``) as a bot_command."""
    match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]


def check_text(text: object) -> str:
    """``text`` if Telegram accepts it as a message's text; raises its refusal otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(text) > MAX_MESSAGE_LENGTH:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def validate_reply_markup(markup: object) -> None:
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return  # reply keyboards and ForceReply are accepted as they are
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: inline keyboard button text must be non-empty")
            data = button.get("callback_data")
            if data is not None and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if len(set(button) - {"text"}) != 1:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
