"""Webhook mode: pending updates are POSTed to the bot's URL, each retried until the bot
accepts it (2xx), as Telegram does: by default one at a time and in order; with more
``connections``, several at once (up to the webhook's ``max_connections``), as Telegram
does: different chats' updates at once, one chat's one after another."""

from __future__ import annotations

import asyncio
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

    def __init__(
        self, *, updates: UpdateQueue, signal: Signal, retry_delay: float, connections: int = 1
    ) -> None:
        self.webhook: Webhook | None = None
        self.last_error: tuple[int, str] | None = None  # (unix time, message) for getWebhookInfo
        self.deliveries: list[WebhookDelivery] = []
        self._updates = updates
        self._signal = signal
        self._retry_delay = retry_delay
        self._connections = connections
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # by update_id

    def set(self, webhook: Webhook) -> None:
        self.webhook = webhook
        self.last_error = None
        self._signal.notify()

    def delete(self) -> bool:
        """Whether a webhook was set."""
        was_set, self.webhook = self.webhook is not None, None
        return was_set

    def start(self) -> None:
        deliver = self._deliver if self._connections == 1 else self._deliver_concurrently
        self._task = asyncio.create_task(deliver())

    async def stop(self) -> None:
        tasks = [*self._in_flight.values(), *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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

    async def _deliver_concurrently(self) -> None:
        """POSTs pending updates, oldest first, up to ``connections`` at a time, but one
        chat's only one at a time, in order: Telegram waits for the answer to a chat's update
        before it sends that chat's next one; different chats' go at once."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                webhook = self.webhook
                limit = min(self._connections, webhook.max_connections) if webhook else 0
                update = self._next_free(self._updates.deliverable() if webhook else [])
                if webhook is None or update is None or len(self._in_flight) >= limit:
                    await self._signal.wait(None)
                    continue
                self._in_flight[update["update_id"]] = asyncio.create_task(
                    self._deliver_one(session, webhook, update)
                )

    def _next_free(self, pending: list[JsonDict]) -> JsonDict | None:
        """The oldest pending update not in flight whose chat has nothing older pending."""
        busy: set[object] = set()
        for update in pending:
            chat = _chat_of(update)
            if update["update_id"] not in self._in_flight and (chat is None or chat not in busy):
                return update
            if chat is not None:
                busy.add(chat)
        return None

    async def _deliver_one(
        self, session: aiohttp.ClientSession, webhook: Webhook, update: JsonDict
    ) -> None:
        try:
            delivery = await self._post(session, webhook, update)
            self.deliveries.append(delivery)
            if delivery.status is not None and 200 <= delivery.status < 300:
                self._updates.accepted(update)
                return
            self.last_error = (int(time.time()), delivery.error or "")
            await asyncio.sleep(self._retry_delay)
        finally:
            self._in_flight.pop(update["update_id"], None)
            self._signal.notify()

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


def _chat_of(update: JsonDict) -> object | None:
    """The id of the chat an update belongs to (its message's, or its sender's), if any."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        message = payload.get("message", payload)  # a callback query carries its message
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict):
            return chat.get("id")
        sender = payload.get("from")
        return sender.get("id") if isinstance(sender, dict) else None
    return None
