"""The aiohttp endpoint Telegram POSTs updates to in webhook mode.

PTB's own webhook server needs tornado; the service already runs aiohttp, so the endpoint
is a route there. Every request must carry the secret given to ``setWebhook`` in
``X-Telegram-Bot-Api-Secret-Token``: anyone can POST to a public URL.

Telegram keeps an update until its webhook answers 2xx, so the answer says what became of
the update:

- 200 once the handler has taken it in (it returns when the event is durably recorded);
  also for an update that can never be taken in (undecodable, or the handler failed on
  it): it is kept raw in the quarantine and logged once, since a retry would fail again
  and hold the chat up forever;
- 500 when the handler could not record it (:class:`~handoff.errors.IntakeUnavailable`):
  Telegram sends it again later;
- 503 while the adapter is not running, 403 without the secret, 400 for a body that is not
  an update at all.

Updates of one chat are handed over one at a time, in the order they arrived, through the
same :class:`~.ordering.ChatOrderedUpdateProcessor` as in polling mode.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from handoff.errors import IntakeUnavailable

from .quarantine import Quarantine
from .screening import UndecodableUpdate, decode_update, update_id_of

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

TakeIn = Callable[[Update, object], Awaitable[None]]
OnFailure = Callable[[Update, BaseException], Awaitable[None]]


class WebhookEndpoint:
    """Checks the secret, decodes the update and hands it to ``take_in``; see the module.

    ``take_in(update, raw)`` is the adapter's (translation, then the handler);
    ``on_failure`` logs and keeps an update that ``take_in`` failed on unexpectedly.
    """

    def __init__(
        self,
        *,
        secret: str,
        bot: Bot,
        ordering: BaseUpdateProcessor,
        take_in: TakeIn,
        on_failure: OnFailure,
        quarantine: Quarantine,
        accepting: Callable[[], bool],
    ) -> None:
        self._secret = secret.encode()
        self._bot = bot
        self._ordering = ordering
        self._take_in = take_in
        self._on_failure = on_failure
        self._quarantine = quarantine
        self._accepting = accepting

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            logger.warning("refused a webhook request without the right secret token")
            return web.Response(status=403, text="forbidden")
        if not self._accepting():
            # Telegram keeps the update and retries: better than handing it to nobody.
            return web.Response(status=503, text="not running")
        try:
            data = json.loads(await request.read())
        except ValueError as exc:
            logger.warning("refused a webhook request: its body is not JSON (%s)", exc)
            return web.Response(status=400, text="not a Telegram update")
        if update_id_of(data) is None:
            logger.warning("refused a webhook request: no update_id in its JSON")
            return web.Response(status=400, text="not a Telegram update")
        try:
            update = decode_update(data, self._bot)
        except UndecodableUpdate as exc:
            await self._quarantine.skip(exc.update_id, data, exc.reason)
            return web.Response(text="skipped")
        return await self._hand_over(update, data)

    async def _hand_over(self, update: Update, data: object) -> web.Response:
        try:
            await self._ordering.process_update(update, self._take_in(update, data))
        except IntakeUnavailable as exc:
            logger.warning(
                "Telegram update %s was not recorded (%s); Telegram will send it again",
                update.update_id,
                exc,
            )
            return web.Response(status=500, text="not recorded, send it again")
        # The top of a request handler: whatever went wrong is logged with its stack there.
        except Exception as exc:
            await self._on_failure(update, exc)
        return web.Response(text="ok")
