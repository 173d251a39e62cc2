"""Calling the Slack Web API: bounded retries, and slack_sdk's errors translated once.

The SDK's own retry hooks do the waiting, inside the request: a rate limit (HTTP 429) waits
as long as ``Retry-After`` says, up to :attr:`RetryPolicy.max_wait` in all; server errors
(any 5xx, and the ``ok: false`` answers that Slack documents as transient) and connection
failures back off exponentially. After :attr:`RetryPolicy.max_retries` retries, or at once
when Slack refuses a request (``ok: false``), the call raises
:class:`~handoff.errors.DeliveryError`. A rate limit that asks for a longer wait than is
left is not a failure: the call raises :class:`~handoff.errors.DeliveryDeferred` with the
seconds Slack asked for, and nothing was done.

A request that timed out or lost its connection may have reached Slack: retrying it can
post a message twice. Customers' messages are therefore posted by a client that retries
rate limits only (:func:`web_client` with ``retry_uncertain=False``), and looked for in
their thread before they are posted again (see :mod:`.tagged`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handoff.errors import DeliveryDeferred, DeliveryError

logger = logging.getLogger(__name__)

# ``ok: false`` errors Slack answers with HTTP 200 for its own passing trouble.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a Web API call keeps trying.

    The defaults retry up to 5 times, backing off 0.5, 1, 2, 4 and 8 seconds (plus up to
    ``jitter`` seconds each) on server and connection errors: an outage of about 20 seconds
    delays delivery instead of losing it. Rate limits are waited out as Slack asks, up to
    ``max_wait`` seconds in all for one call; Slack asking for more defers the call.
    """

    max_retries: int = 5
    backoff: float = 0.5
    jitter: float = 1.0
    timeout: int = 30  # seconds per attempt
    max_wait: float = 30.0  # seconds of Retry-After waited out in one call

    def __post_init__(self) -> None:
        if min(self.max_retries, self.backoff, self.jitter, self.max_wait) < 0:
            raise ValueError("RetryPolicy: expected retries, backoff, jitter and wait of 0 or more")
        if self.timeout < 1:
            raise ValueError("RetryPolicy: expected a time-out of 1 second or more")

    def backoff_delay(self, attempt: int) -> float:
        """The pause before retry ``attempt + 1`` (0-based) after a server or connection error."""
        return float(self.backoff * 2**attempt + random.uniform(0, self.jitter))


def web_client(
    *, token: str | None, api_url: str, policy: RetryPolicy, retry_uncertain: bool = True
) -> AsyncWebClient:
    """An ``AsyncWebClient`` for ``api_url`` that retries as ``policy`` says; with
    ``retry_uncertain=False``, rate limits only (nothing was done when Slack answered 429),
    leaving errors after which a call may have taken effect to the caller."""
    handlers = retry_handlers(policy)
    return AsyncWebClient(
        token=token,
        base_url=api_url,
        timeout=policy.timeout,
        logger=logging.getLogger("bot.adapters.slack.sdk"),
        retry_handlers=handlers if retry_uncertain else handlers[:1],
    )


def retry_handlers(policy: RetryPolicy) -> list[AsyncRetryHandler]:
    """One counter of attempts is shared by these handlers, so ``max_retries`` bounds them
    together. The SDK's server-error handler retries only 500 and 503; a 502 from a load
    balancer is as passing, hence :class:`ServerErrorRetry`. The rate-limit handler comes
    first (see :func:`web_client`)."""
    backoff = BackoffRetryIntervalCalculator(
        backoff_factor=policy.backoff, jitter=_UpTo(policy.jitter)
    )
    return [
        RateLimitRetry(
            max_retry_count=policy.max_retries, jitter=policy.jitter, max_wait=policy.max_wait
        ),
        ServerErrorRetry(max_retry_count=policy.max_retries, interval_calculator=backoff),
        AsyncConnectionErrorRetryHandler(
            max_retry_count=policy.max_retries,
            interval_calculator=backoff,
            error_types=[aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError],
        ),
    ]


class RateLimitRetry(AsyncRetryHandler):
    """HTTP 429: wait ``Retry-After`` seconds (plus jitter, so that workers spread out), as
    long as the waits of this call stay within ``max_wait``; a longer one is not waited for,
    and the 429 is answered to the caller (which :func:`call` turns into a deferral)."""

    def __init__(self, *, max_retry_count: int, jitter: float, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._jitter = jitter
        self._max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        asked = retry_after(response.headers)
        if _waited(state) + asked > self._max_wait:
            logger.warning(
                "Slack rate-limited %s for %.0fs, longer than Tandem waits; deferring it",
                _method(request),
                asked,
            )
            return False
        return True

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        asked = retry_after(response.headers if response is not None else {})
        delay = asked + random.uniform(0, self._jitter)
        logger.warning("Slack rate-limited %s; retrying in %.1fs", _method(request), delay)
        state.custom_values = {**(state.custom_values or {}), "waited": _waited(state) + asked}
        state.next_attempt_requested = True
        await asyncio.sleep(delay)
        state.increment_current_attempt()


def _waited(state: RetryState) -> float:
    return float((state.custom_values or {}).get("waited", 0.0))


class ServerErrorRetry(AsyncRetryHandler):
    """Any 5xx answer, or ``ok: false`` with an error in :data:`TRANSIENT_ERRORS`."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        if response.status_code >= 500:
            logger.warning(
                "Slack answered %s with HTTP %s; retrying", _method(request), response.status_code
            )
            return True
        body = response.body if isinstance(response.body, dict) else {}
        return body.get("ok") is False and body.get("error") in TRANSIENT_ERRORS


async def call(
    what: str, request: Callable[[], Awaitable[AsyncSlackResponse]]
) -> AsyncSlackResponse:
    """``request()``'s answer; ``what`` names it in errors ("the card of handoff #42")."""
    try:
        return await request()
    except SlackApiError as exc:
        raise refusal(what, exc) from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"could not reach Slack for {what}: {exc!r}") from exc


def refusal(what: str, exc: SlackApiError) -> DeliveryError | DeliveryDeferred:
    """What a refusal means for the caller: a rate limit asks it to wait (nothing was done);
    anything else is a failure."""
    if status_of(exc) == 429:
        seconds = retry_after(getattr(exc.response, "headers", None) or {})
        return DeliveryDeferred(
            f"Slack rate-limited {what}; it may be sent in {seconds:.0f}s", retry_after=seconds
        )
    return DeliveryError(f"Slack refused {what}: {describe(exc)}")


def status_of(exc: SlackApiError) -> int | None:
    """The HTTP status Slack answered (``SlackResponse`` or, for a body that is not JSON,
    aiohttp's response)."""
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
    return status if isinstance(status, int) else None


def error_code(exc: SlackApiError) -> str | None:
    """Slack's ``error`` (``channel_not_found``), if the answer had one."""
    # Usually a SlackResponse; for a body that is not JSON, the SDK passes aiohttp's response.
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else None


def describe(exc: SlackApiError) -> str:
    """The error code and HTTP status, e.g. ``channel_not_found (HTTP 200)``; never the
    request, which carries the text and, for some methods, a token."""
    return f"{error_code(exc) or 'no error code'} (HTTP {status_of(exc) or '?'})"


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds from a ``Retry-After`` header (values may come as lists); 1 if it has none."""
    for name, values in headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                seconds = float(str(value))
            except ValueError:
                break
            if not math.isfinite(seconds):
                break
            return max(0.0, seconds)
    return 1.0


def _method(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1]


class _UpTo(Jitter):
    """Adds 0 to ``limit`` seconds (the SDK's own jitter always adds up to a second)."""

    def __init__(self, limit: float) -> None:
        self._limit = limit

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, self._limit)
