"""Calling the Slack Web API: bounded retries, and slack_sdk's errors translated once.

The SDK's own retry hooks do the waiting, inside the request: a rate limit (HTTP 429) waits
as long as ``Retry-After`` says; server errors (any 5xx, and the ``ok: false`` answers that
Slack documents as transient) and connection failures back off exponentially. After
:attr:`RetryPolicy.max_retries` retries, or at once when Slack refuses a request
(``ok: false``), the call raises :class:`~handoff.errors.DeliveryError`.

A request that timed out or lost its connection may have reached Slack: retrying it can
post a message twice, which is preferred to losing it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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

from handoff.errors import DeliveryError

logger = logging.getLogger(__name__)

# ``ok: false`` errors Slack answers with HTTP 200 for its own passing trouble.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a Web API call keeps trying.

    The defaults retry up to 5 times, backing off 0.5, 1, 2, 4 and 8 seconds (plus up to
    ``jitter`` seconds each) on server and connection errors: an outage of about 20 seconds
    delays delivery instead of losing it. A rate limit waits what Slack asks each time.
    """

    max_retries: int = 5
    backoff: float = 0.5
    jitter: float = 1.0
    timeout: int = 30  # seconds per attempt

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.jitter < 0 or self.timeout < 1:
            raise ValueError("RetryPolicy: expected retries, backoff and jitter of 0 or more")


def web_client(*, token: str | None, api_url: str, policy: RetryPolicy) -> AsyncWebClient:
    """An ``AsyncWebClient`` for ``api_url`` that retries as ``policy`` says."""
    return AsyncWebClient(
        token=token,
        base_url=api_url,
        timeout=policy.timeout,
        logger=logging.getLogger("bot.adapters.slack.sdk"),
        retry_handlers=retry_handlers(policy),
    )


def retry_handlers(policy: RetryPolicy) -> list[AsyncRetryHandler]:
    """One counter of attempts is shared by these handlers, so ``max_retries`` bounds them
    together. The SDK's server-error handler retries only 500 and 503; a 502 from a load
    balancer is as passing, hence :class:`ServerErrorRetry`."""
    backoff = BackoffRetryIntervalCalculator(
        backoff_factor=policy.backoff, jitter=_UpTo(policy.jitter)
    )
    return [
        RateLimitRetry(max_retry_count=policy.max_retries, jitter=policy.jitter),
        ServerErrorRetry(max_retry_count=policy.max_retries, interval_calculator=backoff),
        AsyncConnectionErrorRetryHandler(
            max_retry_count=policy.max_retries,
            interval_calculator=backoff,
            error_types=[aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError],
        ),
    ]


class RateLimitRetry(AsyncRetryHandler):
    """HTTP 429: wait ``Retry-After`` seconds (plus jitter, so that workers spread out)."""

    def __init__(self, *, max_retry_count: int, jitter: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._jitter = jitter

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        delay = _retry_after(response) + random.uniform(0, self._jitter)
        logger.warning("Slack rate-limited %s; retrying in %.1fs", _method(request), delay)
        state.next_attempt_requested = True
        await asyncio.sleep(delay)
        state.increment_current_attempt()


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
        raise DeliveryError(f"Slack refused {what}: {describe(exc)}") from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"could not reach Slack for {what}: {exc!r}") from exc


def error_code(exc: SlackApiError) -> str | None:
    """Slack's ``error`` (``channel_not_found``), if the answer had one."""
    # Usually a SlackResponse; for a body that is not JSON, the SDK passes aiohttp's response.
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else None


def describe(exc: SlackApiError) -> str:
    """The error code and HTTP status, e.g. ``channel_not_found (HTTP 200)``; never the
    request, which carries the text and, for some methods, a token."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", "?")
    return f"{error_code(exc) or 'no error code'} (HTTP {status})"


def _retry_after(response: HttpResponse | None) -> float:
    if response is not None:
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                value = values[0] if isinstance(values, list) and values else values
                try:
                    return max(0.0, float(str(value)))
                except ValueError:
                    break
    return 1.0


def _method(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1]


class _UpTo(Jitter):
    """Adds 0 to ``limit`` seconds (the SDK's own jitter always adds up to a second)."""

    def __init__(self, limit: float) -> None:
        self._limit = limit

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, self._limit)
