"""Webhook mode: pending updates are POSTed to the bot's URL, one at a time and in order,
each retried until the bot accepts it (2xx), as Telegram does."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aiohttp

from .records import JsonDict, Signal
from .updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook; ``status`` is None when it did not connect."""

    update_id: int
    status: int | None
    at: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int


class WebhookSender:
    """Delivers the queue's updates while a webhook is set; getUpdates is refused meanwhile."""

    def __init__(self, *, updates: UpdateQueue, signal: Signal, retry_delay: float) -> None:
        self.webhook: Webhook | None = None
        self.last_error: tuple[int, str] | None = None  # (unix time, message) for getWebhookInfo
        self.deliveries: list[WebhookDelivery] = []
        self._updates = updates
        self._signal = signal
        self._retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None

    def set(self, webhook: Webhook) -> None:
        self.webhook = webhook
        self.last_error = None
        self._signal.notify()

    def delete(self) -> bool:
        """Whether a webhook was set."""
        was_set, self.webhook = self.webhook is not None, None
        return was_set

    def start(self) -> None:
        self._task = asyncio.create_task(self._deliver())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _deliver(self) -> None:
        """POSTs pending updates to the webhook in order, retrying until one is accepted."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                webhook = self.webhook
                ready = self._updates.deliverable() if webhook is not None else []
                if webhook is None or not ready:
                    await self._signal.wait(None)
                    continue
                update = ready[0]
                delivery = await self._post(session, webhook, update)
                self.deliveries.append(delivery)
                if delivery.status is not None and 200 <= delivery.status < 300:
                    self._updates.accepted(update)
                else:
                    self.last_error = (int(time.time()), delivery.error or "")
                    self._signal.notify()
                    await asyncio.sleep(self._retry_delay)

    async def _post(
        self, session: aiohttp.ClientSession, webhook: Webhook, update: JsonDict
    ) -> WebhookDelivery:
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        at = time.monotonic()
        try:
            async with session.post(webhook.url, json=update, headers=headers) as response:
                await response.read()
                error = None
                if response.status >= 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                return WebhookDelivery(update["update_id"], response.status, at, error)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return WebhookDelivery(update["update_id"], None, at, f"Connection failed: {exc}")
