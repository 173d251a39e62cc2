"""The aiohttp endpoint Telegram POSTs updates to in webhook mode.

PTB's own webhook server needs tornado; the service already runs aiohttp, so the endpoint
is a route there. Every request must carry the secret given to ``setWebhook`` in
``X-Telegram-Bot-Api-Secret-Token``: anyone can POST to a public URL.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable

from aiohttp import web
from telegram import Bot, Update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookEndpoint:
    """Checks the secret, decodes the update and queues it for the PTB application.

    The answer is given once the update is queued, not handled: Telegram waits for it
    before sending the chat's next update, and gives up on slow endpoints.
    """

    def __init__(
        self,
        *,
        secret: str,
        bot: Bot,
        queue: asyncio.Queue[object],
        accepting: Callable[[], bool],
    ) -> None:
        self._secret = secret.encode()
        self._bot = bot
        self._queue = queue
        self._accepting = accepting

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("refused a webhook request without the right secret token")
            return web.Response(status=403, text="forbidden")
        if not self._accepting():
            # Telegram keeps the update and retries: better than queueing it to nobody.
            return web.Response(status=503, text="not running")
        try:
            data = await request.json()
            update = Update.de_json(data, self._bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("refused a webhook request: not a Telegram update", exc_info=True)
            return web.Response(status=400, text="not a Telegram update")
        await self._queue.put(update)
        return web.Response(text="ok")
