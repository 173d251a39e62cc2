"""How a log line looks: human-readable text with the date, or one JSON object per line
(``log_format: json``, python-json-logger) for a log collector.

Both carry the conversation the line is about, when there is one: the intake names it
while it handles an event (:data:`handoff.log_context.conversation`). The masking and
redacting filters of :mod:`bot.logging` run before either formatter.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

from handoff.log_context import conversation

LogFormat = Literal["text", "json"]

_TEXT = "%(asctime)s %(levelname)-7s %(name)s%(conversation_tag)s: %(message)s"
_TEXT_DATES = "%Y-%m-%d %H:%M:%S"
# The fields of every JSON line, renamed to what they mean.
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(conversation)s %(message)s"
_JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "message": "event"}


class NameConversation(logging.Filter):
    """Puts the conversation being handled (or None) on the record as ``conversation``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "conversation"):
            record.conversation = conversation.get()
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-06 09:15:02 INFO    handoff.engine [telegram:42]: ...``"""

    def __init__(self) -> None:
        super().__init__(_TEXT, _TEXT_DATES)

    def format(self, record: logging.LogRecord) -> str:
        key = getattr(record, "conversation", None)
        record.conversation_tag = f" [{key}]" if key else ""
        return super().format(record)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC offset), level, logger, conversation,
    event, and the stack as ``exc_info`` when there is one."""

    def __init__(self) -> None:
        super().__init__(_JSON_FIELDS, rename_fields=_JSON_NAMES, rename_fields_keep_missing=True)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        # The masking filters put the stack, masked, in exc_text; the library would format
        # exc_info again and print it unmasked, so it is given the masked text alone.
        if not record.exc_text:
            return super().format(record)
        exc_info, record.exc_info = record.exc_info, None
        try:
            return super().format(record)
        finally:
            record.exc_info = exc_info


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else TextFormatter()
