"""Block Kit building blocks, and the message they make up.

Every builder keeps to Slack's limits (see :mod:`.sizing`): a message Slack refuses for
its shape would be a handoff nobody sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .escape import mrkdwn, plain_text
from .sizing import (
    HEADER_TEXT_LIMIT,
    MAX_CONTEXT_ELEMENTS,
    SECTION_TEXT_LIMIT,
    clip,
)

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What ``chat.postMessage``/``chat.update`` get: blocks, and the ``text`` Slack shows in
    notifications (already escaped mrkdwn)."""

    text: str
    blocks: list[Block]


def header(text: str) -> Block:
    return {"type": "header", "text": plain_text(clip(text, HEADER_TEXT_LIMIT))}


def plain_section(text: str) -> Block:
    """A section showing ``text`` verbatim (clipped to the section limit: split long text
    with :func:`.sizing.split_text` first)."""
    return {"type": "section", "text": plain_text(clip(text, SECTION_TEXT_LIMIT))}


def mrkdwn_section(markup: str) -> Block:
    return {"type": "section", "text": mrkdwn(clip(markup, SECTION_TEXT_LIMIT))}


def context(*elements: dict[str, Any]) -> Block:
    """Small grey text; ``elements`` are text objects (``plain_text`` or ``mrkdwn``)."""
    if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
        raise ValueError(f"a context block takes 1-{MAX_CONTEXT_ELEMENTS} elements")
    return {"type": "context", "elements": list(elements)}


def divider() -> Block:
    return {"type": "divider"}


def slack_date(at: datetime, token: str, fallback_format: str) -> str:
    """Slack's date markup: each agent sees ``at`` in their own time zone (``token`` is e.g.
    ``{time}`` or ``{date_short_pretty} {time}``); clients that cannot show it show the
    fallback, in UTC."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime(fallback_format)
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"
