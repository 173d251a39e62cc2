"""Fitting text into a platform's size limits without losing it silently.

Both chat platforms count lengths in UTF-16 code units (their clients are JavaScript);
counting that way never under-counts an emoji outside the Basic Multilingual Plane. Cuts
never split a character sequence that belongs together (an emoji, an accented letter).
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
_ZWJ = "\u200d"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit``, else its start and an ellipsis (``limit`` in all)."""
    if utf16_length(text) <= limit:
        return text
    end = _safe_cut(text, _fitting(text, limit - utf16_length(ELLIPSIS)))
    return text[:end].rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit``, cut at line breaks, else spaces, else anywhere
    between two characters that belong apart (never inside an emoji or before an accent).

    A piece ends at the last break in the second half of its room, so that no piece is much
    shorter than it needs to be; the break itself is dropped. Nothing else is lost, but
    blank pieces are left out (both platforms refuse an empty text): blank text gives ``[]``.
    """
    pieces: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        window = rest[: _fitting(rest, limit)]
        end, resume = _cut(window)
        pieces.append(rest[:end])
        rest = rest[resume:]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _cut(window: str) -> tuple[int, int]:
    """Where the piece in ``window`` ends, and where the next one starts."""
    half = len(window) // 2
    breaks = [window.rfind("\n"), max(window.rfind(" "), window.rfind("\t"))]
    for position in breaks:
        if position > half:
            return position, position + 1
    for position in breaks:
        if position > 0:
            return position, position + 1
    end = _safe_cut(window, len(window))
    return end, end


def _safe_cut(text: str, end: int) -> int:
    """Move a cut at ``end`` back until it does not split a character sequence that belongs
    together: a combining mark or variation selector stays with its base, and an emoji joined
    by a zero-width joiner stays whole."""
    while 0 < end < len(text) and _joins_previous(text[end - 1], text[end]):
        end -= 1
    return end if end > 0 else 1  # a single unsplittable run: cut after its first character


def _joins_previous(before: str, after: str) -> bool:
    return (
        _ZWJ in (before, after)
        or unicodedata.category(after) in {"Mn", "Me", "Mc"}
        or 0xFE00 <= ord(after) <= 0xFE0F  # variation selectors
        or 0x1F3FB <= ord(after) <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= ord(after) <= 0xE007F  # tag characters (subdivision flags)
    )


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)
