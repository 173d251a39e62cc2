"""Slack's size limits; the cutting itself is shared with Telegram (:mod:`bot.adapters.text`)."""

from __future__ import annotations

from bot.adapters.text import ELLIPSIS, clip, split_text, utf16_length

TEXT_LIMIT = 40_000  # a message's ``text``; Slack truncates beyond it
SECTION_TEXT_LIMIT = 3_000  # a section block's text object
FIELD_TEXT_LIMIT = 2_000  # one of a section block's fields
HEADER_TEXT_LIMIT = 150  # a header block's plain_text
BUTTON_TEXT_LIMIT = 75
MAX_BLOCKS = 50  # per message
MAX_CONTEXT_ELEMENTS = 10

__all__ = [
    "BUTTON_TEXT_LIMIT",
    "ELLIPSIS",
    "FIELD_TEXT_LIMIT",
    "HEADER_TEXT_LIMIT",
    "MAX_BLOCKS",
    "MAX_CONTEXT_ELEMENTS",
    "SECTION_TEXT_LIMIT",
    "TEXT_LIMIT",
    "clip",
    "split_text",
    "utf16_length",
]
