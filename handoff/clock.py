"""Timestamps: the store only accepts and only returns timezone-aware UTC datetimes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from handoff.errors import InvalidValue

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware; injected so tests can pin it."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime, *, field: str) -> datetime:
    """``value`` converted to UTC; a naive datetime is refused rather than guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(f"{field} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)
