"""Making text storable on both backends.

PostgreSQL cannot store the NUL character in ``text`` or in ``jsonb`` strings, while SQLite
can. A customer can send one, and losing their message over it would be worse than changing
it, so NUL becomes U+FFFD (the replacement character) on both backends alike.

The same goes for a lone UTF-16 surrogate (``"\\ud800"``): JSON may carry one as an escape,
Python decodes it into a string that no UTF-8 encoder accepts, and both drivers refuse it
(SQLite raises while binding, PostgreSQL refuses the text and the ``jsonb``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_NUL = "\x00"
_REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` with every NUL and every lone surrogate replaced by U+FFFD.

    Two surrogates that form a pair but arrived as two code points (a Python literal
    ``"\\ud83d\\ude00"``) become the one character they encode.
    """
    value = value.replace(_NUL, _REPLACEMENT)
    if _SURROGATE.search(value) is None:
        return value  # the common case: no second pass over the text
    # UTF-16 can carry surrogates: "surrogatepass" writes them, and decoding joins the
    # pairs and replaces the lone ones.
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_optional(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def clean_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-dict copy of ``value`` with :func:`clean_text` applied to every key and string
    inside it."""
    return {clean_text(str(key)): _clean(item) for key, item in value.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return clean_json(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value
