"""Making text storable on both backends.

PostgreSQL cannot store the NUL character in ``text`` or in ``jsonb`` strings, while SQLite
can. A customer can send one, and losing their message over it would be worse than changing
it, so NUL becomes U+FFFD (the replacement character) on both backends alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NUL = "\x00"
_REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """``value`` with every NUL replaced."""
    return value.replace(_NUL, _REPLACEMENT)


def clean_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-dict copy of ``value`` with NUL replaced in every key and string inside it."""
    return {clean_text(str(key)): _clean(item) for key, item in value.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return clean_json(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value
