"""JSON form of :class:`~handoff.model.LiveConversation` as stored in Redis.

Workers of two releases run side by side during a deploy, so decoding is tolerant: fields
this release does not know are ignored and fields missing from older entries take the
model's defaults. Only a missing ``conversation_id`` or a value that cannot be converted is
an error.
"""

from __future__ import annotations

import json
from dataclasses import fields
from enum import Enum
from typing import Any, get_type_hints

from handoff.errors import StateError
from handoff.model import LiveConversation

_FIELDS = tuple(f.name for f in fields(LiveConversation))
# Enum-typed fields travel as their values and are converted back on decoding.
_ENUMS: dict[str, type[Enum]] = {
    name: hint
    for name, hint in get_type_hints(LiveConversation).items()
    if isinstance(hint, type) and issubclass(hint, Enum)
}


def encode(value: LiveConversation) -> str:
    """Compact JSON of every field; enums are str subclasses, so they dump as their value."""
    return json.dumps({name: getattr(value, name) for name in _FIELDS}, separators=(",", ":"))


def decode(raw: str | bytes) -> LiveConversation:
    """Rebuild a stored conversation, raising :class:`StateError` when it is unusable."""
    try:
        data: Any = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise StateError(f"stored live conversation is not JSON: {raw!r:.200}") from exc
    if not isinstance(data, dict):
        raise StateError(f"stored live conversation is not a JSON object: {raw!r:.200}")
    known = {name: data[name] for name in _FIELDS if name in data}
    try:
        for name, enum in _ENUMS.items():
            if name in known:
                known[name] = enum(known[name])
        if "recent_texts" in known:
            known["recent_texts"] = tuple(str(text) for text in known["recent_texts"])
        return LiveConversation(**known)
    except (TypeError, ValueError) as exc:
        raise StateError(f"stored live conversation is invalid ({exc}): {raw!r:.200}") from exc
