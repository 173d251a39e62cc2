"""Reading a Web API request the way Slack does: the token from ``Authorization: Bearer`` or
a ``token`` parameter, and parameters from the query string and a form, multipart or JSON
body, merged. The SDK puts ``params=`` in the query string even on POST, sends JSON for the
methods that take blocks, and multipart for ``files.upload``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from bot.simulators.slack.errors import MethodError
from bot.simulators.slack.workspace import JsonDict

# Form and query values that Slack parses as JSON (the SDK json.dumps them for forms).
JSON_VALUED_PARAMS = ("blocks", "attachments", "metadata", "files", "user_auth_blocks")


@dataclass(frozen=True, slots=True)
class ApiRequest:
    params: JsonDict
    """Without the token, which is in :attr:`token` and never recorded."""
    uploads: dict[str, tuple[str, int]]
    """Multipart file parts by field name: (file name, size in bytes)."""
    token: str | None


async def read_api_request(request: web.Request) -> ApiRequest:
    """Raises ``MethodError("invalid_json")`` (and the like) for a body Slack would refuse."""
    uploads: dict[str, tuple[str, int]] = {}
    params: JsonDict = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise MethodError("invalid_json") from None
        if not isinstance(body, dict):
            raise MethodError("invalid_json")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, field in (await request.post()).items():
            if isinstance(field, web.FileField):
                uploads[key] = (field.filename, len(field.file.read()))
            else:
                params[key] = field.decode() if isinstance(field, bytes | bytearray) else field
    for key in JSON_VALUED_PARAMS:
        value = params.get(key)
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise MethodError(f"invalid_{key}") from None
    token = params.pop("token", None)
    return ApiRequest(params=params, uploads=uploads, token=_bearer_token(request) or token)


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
