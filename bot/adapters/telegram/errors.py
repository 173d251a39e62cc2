"""Errors the Telegram adapter raises at start-up. Delivery failures are
:class:`handoff.errors.DeliveryError`."""

from __future__ import annotations

from bot.errors import TandemError


class TelegramAdapterError(TandemError):
    """The adapter could not start: the token was refused or the Bot API was unreachable."""
