"""Logging set-up. Secrets and customers' personal data never reach a log line.

Personal data (emails, phone and card numbers, IBANs, operators' patterns) is masked in
every record by :class:`MaskPersonalData`, whatever logged it. Against secrets, two
defences: the HTTP client libraries' request logs (which put the Telegram token in the URL
path and Rasa's token in the query string) are kept below INFO, and every record is passed
through a filter that replaces any configured secret with ``***``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from urllib.parse import quote

from bot.log_format import LogFormat, NameConversation, formatter

# Libraries whose INFO lines print request URLs, which carry tokens.
_CHATTY_LIBRARIES = (
    "httpx",
    "httpcore",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "aiohttp.access",
    "alembic",
)
_MASK = "***"


class RedactSecrets(logging.Filter):
    """Replaces each known secret in a record's final message with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole. Short values are
        # skipped: masking "a" everywhere would destroy the log without protecting anything.
        # Each secret also in its URL-encoded form: a token inside a URL path ("123%3AAA...")
        # is a secret too.
        forms = {form for s in secrets if len(s) >= 6 for form in (s, quote(s, safe=""))}
        self._secrets = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, _MASK)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text
        if exc_text:
            for secret in self._secrets:
                exc_text = exc_text.replace(secret, _MASK)
            record.exc_text = exc_text
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class MaskPersonalData(logging.Filter):
    """Masks personal data in a record's final message and stack with ``mask`` (see
    :class:`handoff.privacy.Masker`): a customer's text logged anywhere is masked."""

    def __init__(self, mask: Callable[[str], str]) -> None:
        super().__init__()
        self._mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True


def configure_logging(
    level: str,
    *,
    secrets: Iterable[str] = (),
    personal_data: Callable[[str], str] | None = None,
    log_format: LogFormat = "text",
) -> None:
    """Log to stderr at ``level``, with secrets redacted from every handler's output, and
    personal data masked with ``personal_data`` (a text in, the text masked out); each line
    as text or as JSON (``log_format``), naming the conversation being handled."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(NameConversation())
    if personal_data is not None:
        handler.addFilter(MaskPersonalData(personal_data))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
