"""Sends signed requests into an app's Slack endpoint (e.g. Tandem's ``/slack/events``) the
way Slack does, including the ways a request can fail verification.

Slack signs ``v0:{timestamp}:{body}`` with HMAC-SHA256 under the app's signing secret and
sends ``X-Slack-Signature: v0=<hex>`` and ``X-Slack-Request-Timestamp``; apps refuse requests
whose timestamp is more than five minutes off.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.simulators.slack import defaults, events

STALE_AGE_SECONDS = 6 * 60
"""How old a ``Signature.STALE`` timestamp is: past the five minutes Bolt accepts."""


class Signature(enum.Enum):
    VALID = "valid"
    WRONG = "wrong"
    """Signed with another secret."""
    MISSING = "missing"
    """Neither the signature nor the timestamp header."""
    STALE = "stale"
    """Correctly signed, but with a timestamp six minutes old (a replayed request)."""


@dataclass(frozen=True, slots=True)
class SentRequest:
    """A request exactly as sent (body and headers, signature included), to replay it."""

    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class EndpointResponse:
    status: int
    body: str
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


class SlackEventSender:
    """POSTs Events API bodies, interactivity payloads and slash commands to ``endpoint_url``.

    Pass the simulator's ``response_url_base`` so that ``respond()`` calls land on it;
    without it, payloads carry a hooks.slack.com URL as Slack's do. :attr:`sent` keeps every
    request, so that a test can :meth:`replay` one as an attacker who captured it would.
    """

    def __init__(
        self,
        *,
        endpoint_url: str,
        signing_secret: str,
        response_url_base: str | None = None,
        team_id: str = defaults.TEAM_ID,
        api_app_id: str = defaults.APP_ID,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._signing_secret = signing_secret
        self._response_url_base = response_url_base
        self._team_id = team_id
        self._api_app_id = api_app_id
        self._clock = clock
        self.sent: list[SentRequest] = []

    async def event_callback(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        team_id: str | None = None,
        api_app_id: str | None = None,
        signature: Signature = Signature.VALID,
    ) -> EndpointResponse:
        """Deliver ``event``; ``retry_num``/``retry_reason`` mark a redelivery, as Slack does
        when the first attempt was not acknowledged in time (e.g. reason ``http_timeout``).
        ``team_id``/``api_app_id`` override the sender's for this event."""
        body = events.event_callback_body(
            event,
            event_id=event_id,
            team_id=team_id or self._team_id,
            api_app_id=api_app_id or self._api_app_id,
        )
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return await self.send(
            json.dumps(body),
            content_type="application/json",
            signature=signature,
            headers=headers,
        )

    async def url_verification(
        self, challenge: str, *, signature: Signature = Signature.VALID
    ) -> EndpointResponse:
        body = json.dumps(events.url_verification_body(challenge))
        return await self.send(body, content_type="application/json", signature=signature)

    async def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        thread_ts: str | None = None,
        block_id: str = "actions",
        container: Mapping[str, Any] | None = None,
        message: Mapping[str, Any] | None = None,
        signature: Signature = Signature.VALID,
        kind: str = "button",
    ) -> EndpointResponse:
        """A click on a button with ``action_id`` and ``value`` in the message ``message_ts``
        (``kind="static_select"``: the option ``value`` picked in a list)."""
        payload = events.block_actions_payload(
            action_id,
            value,
            user=user,
            channel=channel,
            message_ts=message_ts,
            thread_ts=thread_ts,
            block_id=block_id,
            container=container,
            message=message,
            response_url=self._response_url(channel, message_ts),
            team_id=self._team_id,
            api_app_id=self._api_app_id,
            kind=kind,
        )
        return await self._interactive(payload, signature)

    async def message_shortcut(
        self,
        callback_id: str,
        message: Mapping[str, Any],
        *,
        user: str,
        channel: str,
        signature: Signature = Signature.VALID,
    ) -> EndpointResponse:
        """``user`` uses the message shortcut ``callback_id`` on ``message`` (as the Web API
        shows it, e.g. ``Message.to_api()``) in ``channel``."""
        payload = events.message_action_payload(
            callback_id,
            message,
            user=user,
            channel=channel,
            response_url=self._response_url(channel, str(message.get("ts") or "")),
            team_id=self._team_id,
            api_app_id=self._api_app_id,
        )
        return await self._interactive(payload, signature)

    async def view_submission(
        self,
        view: Mapping[str, Any],
        values: Mapping[str, Mapping[str, Any]],
        *,
        user: str,
        signature: Signature = Signature.VALID,
    ) -> EndpointResponse:
        """``user`` submits the modal ``view`` (as views.open answered it) with ``values``."""
        payload = events.view_submission_payload(
            view, values, user=user, team_id=self._team_id, api_app_id=self._api_app_id
        )
        return await self._interactive(payload, signature)

    async def slash_command(
        self,
        command: str,
        text: str,
        *,
        user: str,
        channel: str,
        signature: Signature = Signature.VALID,
    ) -> EndpointResponse:
        form = events.slash_command_form(
            command,
            text,
            user=user,
            channel=channel,
            response_url=self._response_url(channel, None),
            team_id=self._team_id,
            api_app_id=self._api_app_id,
        )
        return await self.send(
            urlencode(form), content_type="application/x-www-form-urlencoded", signature=signature
        )

    async def send(
        self,
        body: str | bytes,
        *,
        content_type: str,
        signature: Signature = Signature.VALID,
        headers: Mapping[str, str] | None = None,
    ) -> EndpointResponse:
        """POST ``body`` as is (a ``str`` as UTF-8), signed as ``signature`` says; the other
        methods end here."""
        request_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0"}
        request_headers.update(self.signature_headers(body, signature=signature))
        request_headers.update(headers or {})
        sent = SentRequest(
            body=body.encode() if isinstance(body, str) else body, headers=request_headers
        )
        self.sent.append(sent)
        return await self.replay(sent)

    async def replay(self, request: SentRequest) -> EndpointResponse:
        """POST ``request`` again, byte for byte: same body, same timestamp and signature."""
        # A session per request: the sender is a test helper, and this leaves nothing to close.
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._endpoint_url, data=request.body, headers=request.headers) as resp,
        ):
            return EndpointResponse(
                status=resp.status,
                body=await resp.text(errors="replace"),
                content_type=resp.content_type,
            )

    async def _interactive(
        self, payload: Mapping[str, Any], signature: Signature
    ) -> EndpointResponse:
        """An interactivity payload, sent as Slack does: form field ``payload``."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(
            body, content_type="application/x-www-form-urlencoded", signature=signature
        )

    def signature_headers(
        self, body: str | bytes, *, signature: Signature = Signature.VALID
    ) -> dict[str, str]:
        if signature is Signature.MISSING:
            return {}
        now = int(self._clock())
        timestamp = str(now - STALE_AGE_SECONDS if signature is Signature.STALE else now)
        secret = self._signing_secret
        if signature is Signature.WRONG:
            secret = f"not-{secret}"
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret, timestamp=timestamp, body=body),
        }

    def _response_url(self, channel: str, message_ts: str | None) -> str:
        if self._response_url_base is None:
            return f"https://hooks.slack.com/actions/{self._team_id}/0/{uuid.uuid4().hex}"
        return events.response_url(self._response_url_base, channel=channel, message_ts=message_ts)


def sign(secret: str, *, timestamp: str, body: str | bytes) -> str:
    """Slack's request signature: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``; the
    body as the bytes sent (a ``str`` is sent as UTF-8)."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    return f"v0={digest.hexdigest()}"
