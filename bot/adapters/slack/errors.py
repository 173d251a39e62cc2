"""Errors the Slack adapter raises at start-up. Delivery failures are
:class:`handoff.errors.DeliveryError`."""

from __future__ import annotations

from bot.errors import TandemError


class SlackAdapterError(TandemError):
    """The adapter could not start: a token was refused, or Slack was unreachable."""
