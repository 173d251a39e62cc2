"""Reading a request to ``/slack/events``: its size, then its signature, then its body.

Nothing is parsed before the signature and its age are checked: an unsigned, wrongly
signed or replayed-later request is answered 401 and goes no further. A signed request that
Slack would never send (not UTF-8, not JSON or a form, not an object, not shaped as
Tandem's requests are: see :mod:`.shapes`) is answered 400 with what is wrong. Answers are
one short line of plain text, and the log gets one line without the body: nothing from
outside makes a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.error import BoltError
from slack_bolt.request.async_request import AsyncBoltRequest

from .shapes import shape_problem
from .signature import SignatureCheck

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # bytes; aiohttp's own limit, and far above any payload of Slack's
CONTENT_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})


@dataclass(frozen=True, slots=True)
class Refused:
    """A request answered without being handled."""

    status: int
    reason: str

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.reason)


UNSIGNED = Refused(401, "invalid or missing Slack signature")
TOO_LARGE = Refused(413, "request body too large")
WRONG_TYPE = Refused(400, "expected a JSON or form-encoded body")
NOT_UTF8 = Refused(400, "the body is not UTF-8")
MALFORMED = Refused(400, "malformed Slack payload")


async def read_signed(request: web.Request, check: SignatureCheck) -> AsyncBoltRequest | Refused:
    """The request as Bolt reads it, once it proved to come from Slack; else why not."""
    refused = await _read(request, check)
    if isinstance(refused, Refused):
        logger.info(
            "refused a request to %s from %s: %s", request.path, request.remote, refused.reason
        )
    return refused


async def _read(request: web.Request, check: SignatureCheck) -> AsyncBoltRequest | Refused:
    body = await _body(request)
    if isinstance(body, Refused):
        return body
    headers = request.headers
    signed = check.is_valid(
        body=body,
        timestamp=headers.get("X-Slack-Request-Timestamp"),
        signature=headers.get("X-Slack-Signature"),
    )
    if not signed:
        return UNSIGNED
    if request.content_type not in CONTENT_TYPES:
        return WRONG_TYPE
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return _parsed(text, request)


async def _body(request: web.Request) -> bytes | Refused:
    """The raw body, unless it is over :data:`MAX_BODY` (then it is not read at all, when
    the request says its length)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return TOO_LARGE
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:  # sent without a length, and over the limit
        return TOO_LARGE
    return TOO_LARGE if len(body) > MAX_BODY else body


def _parsed(text: str, request: web.Request) -> AsyncBoltRequest | Refused:
    """Bolt parses the body as it builds the request, and reads its context from it: a body
    that is not an object, or that has fields of unexpected types, makes that raise."""
    try:
        bolt = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=dict(request.headers),
        )
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError, BoltError):
        return MALFORMED
    parsed: object = bolt.body  # typed as a dict, but it is whatever the JSON was
    if not isinstance(parsed, dict):
        return MALFORMED
    problem = shape_problem(parsed)
    return bolt if problem is None else Refused(400, f"malformed Slack payload: {problem}")
