"""Making text that Tandem did not write safe to show in Slack.

Customers' words reach Slack in two ways, and each has one rule:

- In Block Kit, customer text goes in ``plain_text`` objects (see :func:`plain_text`).
  Slack shows those verbatim: no mentions, no links, no formatting. Nothing has to be
  escaped and nothing invisible is inserted, so an order number or a ``@user_name`` an
  agent copies from a relayed message is exactly what the customer typed.
- Wherever text is read as mrkdwn (a message's ``text``, which Slack uses for notifications
  and clients without Block Kit, and any mrkdwn text object), it goes through
  :func:`escape_mrkdwn` first.

:func:`clean` runs in both: it removes what no chat message needs and what can disguise text.
"""

from __future__ import annotations

import re
from typing import Any

ZWSP = "\u200b"  # zero-width space
ZWJ = "\u200d"  # zero-width joiner

# C0 and C1 control characters except tab and line feed: Slack has no use for them, and some
# (NUL, escape sequences) upset clients and logs.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional embeddings and overrides (U+202A-U+202E) make "invoice\u202efdp.exe" read as
# "invoiceexe.pdf". Real right-to-left text needs none of them; isolates (U+2066-U+2069) stay.
_BIDI_OVERRIDES = re.compile("[\u202a-\u202e]")
# A lone surrogate cannot be encoded as UTF-8; Slack would refuse the whole request.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")

# Slack's "special mentions" notify everybody when the message is parsed with link_names.
# Defused wherever they occur, even inside a longer word: what ends a word is the client's
# call (a zero-width space inserted below might), and a stray joiner costs nothing.
_BROADCASTS = re.compile(r"@(here|channel|everyone)", re.IGNORECASE)
# *bold* _italic_ ~strike~ `code` and ```code blocks```.
_FORMATTING = re.compile(r"[*_~`]")
# A line starting with ">" (escaped: "&gt;") is a block quote; ">>>" quotes the rest.
_QUOTE_LINE = re.compile(r"^(?=[ \t]*&gt;)", re.MULTILINE)


def clean(text: str) -> str:
    """``text`` with CR LF as LF, and without control characters, bidi overrides and lone
    surrogates. Everything a person can see is kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = _BIDI_OVERRIDES.sub("", text)
    return _LONE_SURROGATES.sub("\ufffd", text)


def escape_mrkdwn(text: str) -> str:
    """``text`` made inert as Slack mrkdwn: it shows as written and can neither notify anyone,
    nor link anywhere, nor format anything.

    1. ``&``, ``<`` and ``>`` become entities, as Slack's formatting rules require. That
       alone defuses every ``<...>`` form: ``<!channel>``, ``<!here>``, ``<@U123>``,
       ``<#C123>``, ``<!subteam^S1>``, ``<http://evil|click here>``.
    2. Bare ``@here``, ``@channel`` and ``@everyone`` get a zero-width joiner after the
       ``@``, so no ``link_names`` or ``parse=full`` setting can turn them into pings.
    3. Each of ``* _ ~ ` `` is wrapped in zero-width spaces. Slack formats ``*x*`` only when
       the opening mark is followed, and the closing one preceded, by a visible character
       inside a word boundary; whichever way a client classes the zero-width space, one of
       those conditions fails, so the marks show as they are.
    4. A line starting with ``>`` starts with a zero-width space instead, so it is no quote.
    """
    text = clean(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCASTS.sub(lambda match: f"@{ZWJ}{match.group(1)}", text)
    text = _FORMATTING.sub(lambda match: f"{ZWSP}{match.group(0)}{ZWSP}", text)
    return _QUOTE_LINE.sub(ZWSP, text)


def plain_text(text: str, *, emoji: bool = False) -> dict[str, Any]:
    """A Block Kit ``plain_text`` object for ``text`` (which must not be blank).

    ``emoji=False`` keeps a customer's ``:shortcode:`` as the characters they typed.
    """
    cleaned = clean(text)
    if not cleaned.strip():
        raise ValueError("Slack refuses an empty text object")
    return {"type": "plain_text", "text": cleaned, "emoji": emoji}


def mrkdwn(text: str) -> dict[str, Any]:
    """A Block Kit ``mrkdwn`` object for markup Tandem wrote itself (escape any part of it
    that came from elsewhere with :func:`escape_mrkdwn`). ``verbatim`` stops Slack from
    linking channel names and URLs on its own."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}
