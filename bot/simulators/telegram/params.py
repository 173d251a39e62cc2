"""Reading a Bot API request's parameters from its query, JSON body or form body."""

from __future__ import annotations

import contextlib
import json

from aiohttp import web

from .answers import ApiError
from .records import JsonDict

# Form bodies carry every value as a string (python-telegram-bot JSON-encodes everything that
# is not already a string); the real API decodes by each parameter's declared type.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "scope",
        "media",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
    }
)


async def read_params(request: web.Request) -> JsonDict:
    """The request's parameters, decoded to the types the Bot API declares for them."""
    return decode_params(await _read_raw_params(request))


def decode_params(raw: JsonDict) -> JsonDict:
    """Turns form strings into the types the Bot API declares; JSON bodies pass through."""
    params: JsonDict = {}
    for name, value in raw.items():
        params[name] = value
        if isinstance(value, str) and name in _JSON_PARAMS | _BOOL_PARAMS:
            try:
                params[name] = json.loads(value)
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
        elif isinstance(value, str) and name in _INT_PARAMS:
            # chat_id may also be "@channelusername"; anything else non-numeric stays a string
            with contextlib.suppress(ValueError):
                params[name] = int(value)
    return params


async def _read_raw_params(request: web.Request) -> JsonDict:
    params: JsonDict = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "Bad Request: can't parse JSON body") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            # Uploaded files are not stored: the call records only that one was sent.
            if isinstance(value, web.FileField):
                params[key] = {"file_name": value.filename}
            else:
                params[key] = value
    return params
