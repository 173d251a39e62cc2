"""Slack's message markup read back as the plain text a person meant.

An agent's reply arrives as Slack stores it: ``a &lt; b``, ``<@U123>``,
``<https://example.com|our FAQ>``. The customer must read ``a < b``, ``@Alice`` and
``our FAQ (https://example.com)``: the neutral model's text is never markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_TOKEN = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def mentioned_users(text: str) -> set[str]:
    """The user ids mentioned in ``text``, whose names :func:`to_plain_text` needs."""
    return set(_USER_MENTION.findall(text))


def to_plain_text(text: str, *, names: Mapping[str, str]) -> str:
    """``text`` without Slack's markup; ``names`` maps user ids to the names to show.

    Formatting marks (``*bold*``) are kept: they are what the agent typed, and plain text
    shows them as such.
    """
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], _TOKEN.sub(_shown(names), text))


def _shown(names: Mapping[str, str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return _special(target[1:], label)
        url = target.removeprefix("mailto:")
        return f"{label} ({url})" if label and label != url else url

    return replace


def _special(command: str, label: str) -> str:
    if command in {"here", "channel", "everyone"}:
        return f"@{command}"
    if label:  # <!subteam^S1|@support>, <!date^1700000000^{date}|Nov 14>
        return label
    return "@group" if command.startswith("subteam^") else ""
