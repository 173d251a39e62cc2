"""The Telegram adapter: a python-telegram-bot ``Application`` behind the neutral ports.

Inbound, it turns updates into :class:`~handoff.model.Inbound` and hands them to the
:class:`~handoff.ports.InboundHandler`; outbound, it implements
:class:`~handoff.ports.CustomerChannel`. Updates arrive by long polling, or, with a
``webhook_url``, on a route of the service's own aiohttp server.

An update that cannot be decoded or translated is skipped: logged once with its id and
kept raw in the quarantine file (:mod:`.quarantine`) when ``quarantine_dir`` is set, so
that it never stalls polling (:mod:`.screening`) nor has a webhook retried forever.

What "received" means differs by mode. With a webhook, Telegram counts an update as
received once the endpoint answered 2xx, which it does only after the handler returned
(the handler returns once the event is durably recorded): an update the handler could not
record gets a 500 and comes again. With long polling, PTB confirms the updates of one
getUpdates answer with its next getUpdates call, which it makes as soon as they are
queued here, not handled. So one window remains in polling mode: from that next call to
the handler's return. An update the handler fails on in that window (``IntakeUnavailable``
or a bug) is logged once with its id and kept raw in the quarantine, but Telegram will not
send it again; and the updates being handled when the process is killed (at most one
answer's worth, 100) are lost with it. ``confirm_after_handover`` closes the second part
(see :mod:`.handover`): the next call then waits, that many seconds at most, until the
handler returned for every update of the answer.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp.typedefs import Handler
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackContext, ExtBot, TypeHandler

from handoff.errors import DeliveryError
from handoff.lease import Lease
from handoff.model import Attachment, ButtonAnswer, ConversationKey, Outbound
from handoff.ports import InboundHandler

from .delivery import Delivery, RetryPolicy
from .errors import TelegramAdapterError
from .files import MAX_DOWNLOAD_BYTES, download
from .handover import Handovers
from .health import ComponentHealth, PollWatch
from .intake import UpdateIntake
from .limiter import SendLimiter, SendLimits
from .ordering import ChatOrderedUpdateProcessor
from .outbound import (
    SEND_MESSAGE,
    chat_id_of,
    inline_keyboard,
    joined_ids,
    part_ids,
    send_message_kwargs,
    sent_message_id,
    split_text,
    spread_text,
)
from .polling_owner import POLLING_LEASE, PollingOwner
from .quarantine import Quarantine
from .screening import UpdateScreen, UpdatesRequest
from .transport import AiohttpRequest
from .webhook import WebhookEndpoint

logger = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"  # Telegram's refusal of an edit that changes nothing


def _partly(exc: DeliveryError, done: int, parts: int, what: str) -> DeliveryError:
    """``exc`` for a message in several parts, saying how many of them were done."""
    return DeliveryError(f"{exc} ({done} of its {parts} parts were {what})", cause=exc.cause)


# The updates a support bot acts on; Telegram does not even send the others.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

_Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
_Application = Application[
    ExtBot[None], _Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]

# A button acknowledgement is only useful within seconds; don't hold the turn up for it.
_ANSWER_POLICY = RetryPolicy(attempts=3, first_delay=0.5, budget=5.0)
_TYPING_POLICY = RetryPolicy(attempts=1)


class RouteRegistry(Protocol):
    """Where the webhook endpoint is mounted (:class:`bot.http.HttpServer`)."""

    def add_route(self, method: str, path: str, handler: Handler) -> None: ...


class TelegramAdapter:
    """Receives customers' Telegram updates and sends them messages.

    In webhook mode the endpoint is added to ``routes`` here, at construction, because
    aiohttp freezes its routes when the server starts; :meth:`start` then registers the
    webhook with Telegram. ``webhook_secret`` is required with ``webhook_url``.
    ``max_download_bytes`` is the Bot API's limit for bots' downloads (a self-hosted Bot
    API server allows more). Skipped updates are kept in ``quarantine_dir`` and
    ``confirm_after_handover`` holds polled updates unconfirmed until handed over (see the
    module); ``clock`` (:func:`time.monotonic`) times the health check.
    """

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        handler: InboundHandler,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        routes: RouteRegistry | None = None,
        limits: SendLimits | None = None,
        limiter: SendLimiter | None = None,
        polling_lease: Lease | None = None,
        polling_lease_ttl: float = POLLING_LEASE,
        retry: RetryPolicy | None = None,
        max_concurrent_updates: int = 64,
        poll_timeout: float = 10.0,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        quarantine_dir: Path | None = None,
        confirm_after_handover: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        commands: Sequence[tuple[str, str]] = (),
    ) -> None:
        if webhook_url is not None and (webhook_secret is None or routes is None):
            raise ValueError("a Telegram webhook needs a secret token and a route registry")
        self._token = token
        self._commands = tuple(commands)
        self._api_url = api_url.rstrip("/")
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._poll_timeout = poll_timeout
        self._max_download_bytes = max_download_bytes
        policy = retry or RetryPolicy()
        self._policy = policy
        self._finishing = policy.finishing()
        # ``limiter``: shared by several workers (see .shared_limits); else this process's.
        self._limiter = limiter or SendLimiter(limits=limits or SendLimits())
        self._delivery = Delivery(limiter=self._limiter, policy=policy, token=token)
        quarantine = Quarantine(directory=quarantine_dir)
        self._watch = PollWatch(poll_timeout=poll_timeout, clock=clock)
        # Several workers polling: one at a time, the lease's holder (see .polling_owner).
        self.polling_owner = (
            None
            if polling_lease is None or webhook_url is not None
            else PollingOwner(
                lease=polling_lease,
                start=self._poll,
                stop=self._stand_by,
                ttl=polling_lease_ttl,
            )
        )
        handovers = (
            None if confirm_after_handover is None else Handovers(patience=confirm_after_handover)
        )
        self._intake = UpdateIntake(
            handler=handler,
            quarantine=quarantine,
            handovers=handovers,
            bot_username=lambda: self._app.bot.username,
            token=token,
        )
        self._running = False
        self._receiving_stopped = False

        ordering = ChatOrderedUpdateProcessor(max_concurrent_updates)
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{self._api_url}/bot")
            .base_file_url(f"{self._api_url}/file/bot")
            .concurrent_updates(ordering)
            .job_queue(None)
            .request(AiohttpRequest())
        )
        if webhook_url is None:
            screen = UpdateScreen(quarantine=quarantine)
            builder = builder.get_updates_request(
                UpdatesRequest(screen=screen, answered=self._watch.answered, handovers=handovers)
            )
        else:
            builder = builder.updater(None)
        self._app: _Application = builder.build()
        self._app.add_handler(TypeHandler(Update, self._on_update))
        self._app.add_error_handler(self._on_error)

        if webhook_url is not None and webhook_secret is not None and routes is not None:
            endpoint = WebhookEndpoint(
                secret=webhook_secret,
                bot=self._app.bot,
                ordering=ordering,
                take_in=self._intake.take_in,
                on_failure=self._intake.failed,
                quarantine=quarantine,
                accepting=lambda: self._running,
            )
            routes.add_route("POST", urlsplit(webhook_url).path or "/", endpoint.handle)

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then receive updates by long polling or the webhook."""
        self._receiving_stopped = False
        try:
            await self._initialize()
            await self._register_commands()
            await self._app.start()
            self._running = True
            await self._receive()
        except BaseException:
            await self.stop()
            raise
        logger.info(
            "Telegram: @%s receiving updates by %s",
            self._app.bot.username,
            "webhook" if self._webhook_url else "long polling",
        )

    async def _initialize(self) -> None:
        try:
            await self._app.initialize()  # getMe: proves the token and the URL
        except InvalidToken:
            # PTB's message quotes the token: drop it rather than chain it.
            raise TelegramAdapterError(
                f"Telegram refused TELEGRAM_BOT_TOKEN (getMe at {self._api_url} said it is not "
                "a valid bot token); copy it again from @BotFather"
            ) from None
        except TelegramError as exc:
            raise TelegramAdapterError(
                f"cannot reach the Telegram Bot API at {self._api_url}: {self._redact(exc)}"
            ) from exc

    async def _register_commands(self) -> None:
        """The menu Telegram shows beside the text field (setMyCommands). A refusal leaves
        the menu as it was; the commands work all the same."""
        if not self._commands:
            return
        try:
            await self._app.bot.set_my_commands(list(self._commands))
        except TelegramError as exc:
            logger.warning("Telegram refused the command menu: %s", self._redact(exc))

    async def _receive(self) -> None:
        try:
            if self.polling_owner is not None:
                await self.polling_owner.begin()
            elif self._webhook_url is None:
                await self._poll()
            else:
                # Not deleted at stop: Telegram keeps updates for an unreachable webhook,
                # so nothing is lost across a restart or while another worker takes over.
                await self._app.bot.set_webhook(
                    self._webhook_url,
                    secret_token=self._webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
        except TelegramError as exc:
            what = "long polling" if self._webhook_url is None else "TELEGRAM_WEBHOOK_URL"
            raise TelegramAdapterError(f"Telegram refused {what}: {self._redact(exc)}") from exc

    async def _poll(self) -> None:
        updater = self._app.updater
        assert updater is not None  # built with an updater in polling mode
        # Polling first deletes any webhook set before (never the pending updates).
        await updater.start_polling(
            timeout=timedelta(seconds=self._poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            error_callback=self._on_polling_error,
        )
        self._watch.started()

    async def _stand_by(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        self._watch.standing_by()

    async def stop_receiving(self) -> None:
        """Take no more updates: the webhook answers 503 (Telegram sends the update again,
        through the balancer to another worker), polling ends and its lease is given up.
        Sending still works, for what is being handled; :meth:`stop` closes the rest."""
        self._running = False
        if self._receiving_stopped:
            return
        self._receiving_stopped = True
        if self.polling_owner is not None:
            await self.polling_owner.end()
        self._watch.stopped()
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def stop(self) -> None:
        """Stop receiving, finish the updates being handled, close the HTTP clients."""
        await self.stop_receiving()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()
        # After a failed initialize() the application skips its shutdown, but the bot's
        # HTTP clients are open; closing them twice is harmless.
        await self._app.bot.shutdown()
        await self._limiter.close()

    def health(self) -> ComponentHealth:
        """How receiving updates goes: in polling mode by the age of the last getUpdates
        answer (degraded past ``poll_timeout`` + 30 s, down past 5 minutes or when polling
        is not running); in webhook mode "ok" with the webhook's URL while running."""
        if self._webhook_url is None:
            return self._watch.health()
        if not self._running:
            return ComponentHealth("down", "webhook: the adapter is not running")
        return ComponentHealth("ok", f"webhook at {self._webhook_url}")

    # --- CustomerChannel --------------------------------------------------------------

    async def send(self, message: Outbound) -> str:
        """Send ``message`` as plain text, split into several messages when it is too long.

        The buttons go under the last part. The id returned is the parts' ids joined
        (``101+102``, see :data:`.outbound.PART_SEPARATOR`), so that an edit or a deletion
        reaches every part; a message in one part has its own id. When Telegram asks to
        wait longer than the retry budget before the first part (than the policy's
        ``defer_after`` for a message ``told_if_late``), nothing is sent and
        :class:`~handoff.errors.DeliveryDeferred` says how long to wait. Once the first
        part is out, the others wait as long as Telegram asks, up to the policy's
        ``finish_budget`` (15 minutes by default): deferring then would have the whole
        message sent again, its first parts twice, and failing would leave the customer
        with half of it. Past that cap, ``DeliveryError`` says how many parts went out.
        """
        chat_id = chat_id_of(message.key)
        keyboard = inline_keyboard(message.buttons)  # raises before anything is sent
        chunks = split_text(message.text)
        ids: list[str] = []
        for number, chunk in enumerate(chunks, start=1):
            send_chunk = functools.partial(
                self._app.bot.do_api_request,  # Telegram's answer as is: see .outbound
                SEND_MESSAGE,
                api_kwargs=send_message_kwargs(
                    chat_id, chunk, keyboard if number == len(chunks) else None
                ),
            )
            sent = await self._send_part(message, send_chunk, chat_id, number, len(chunks))
            ids.append(sent_message_id(sent))
        return joined_ids(ids)

    async def _send_part(
        self,
        message: Outbound,
        send_chunk: Callable[[], Any],
        chat_id: int,
        number: int,
        parts: int,
    ) -> Any:
        what = f"the message to {message.key}"
        if number == 1:
            # One whose sender is told when it is late defers early: they hear of the wait.
            patience = self._policy.defer_after if message.told_if_late else None
            return await self._delivery.call(
                what, send_chunk, chat_id=chat_id, deferrable=True, defer_after=patience
            )
        try:
            return await self._delivery.call(
                what, send_chunk, chat_id=chat_id, policy=self._finishing
            )
        except DeliveryError as exc:
            raise DeliveryError(
                f"{exc} ({number - 1} of its {parts} parts were sent)", cause=exc.cause
            ) from exc

    async def answer_button(self, answer: ButtonAnswer) -> None:
        """Acknowledge a press; a refused acknowledgement (too old) is logged, not raised,
        because the client stops its spinner on its own after a few seconds."""
        try:
            await self._delivery.call(
                f"the answer to button press {answer.press_id}",
                lambda: self._app.bot.answer_callback_query(answer.press_id, text=answer.text),
                policy=_ANSWER_POLICY,
            )
        except DeliveryError as exc:
            logger.warning("%s", exc)

    async def show_typing(self, key: ConversationKey) -> None:
        chat_id = chat_id_of(key)
        try:
            await self._delivery.call(
                f"the typing action in {key}",
                lambda: self._app.bot.send_chat_action(chat_id=chat_id, action="typing"),
                policy=_TYPING_POLICY,
            )
        except DeliveryError as exc:
            logger.debug("%s", exc)

    async def edit_text(self, key: ConversationKey, message_id: str, text: str) -> None:
        """``editMessageText`` on every part of the message: plain text, like every message
        Tandem sends, spread over as many messages as it was sent as. A text that needs
        more, or cannot fill them, changes nothing: :class:`DeliveryError` says why. A part
        whose text stays the same is left as it is."""
        chat_id = chat_id_of(key)
        parts = part_ids(message_id)
        chunks = spread_text(text, len(parts))
        if chunks is None:
            raise DeliveryError(
                f"the edit does not fit the {len(parts)} message(s) the reply was sent as "
                f"(it would take {len(split_text(text))}): nothing was changed"
            )
        for number, (part, chunk) in enumerate(zip(parts, chunks, strict=True), start=1):
            edit = functools.partial(
                self._app.bot.edit_message_text, text=chunk, chat_id=chat_id, message_id=part
            )
            try:
                await self._delivery.call(
                    f"the edit of message {part} in {key}", edit, chat_id=chat_id
                )
            except DeliveryError as exc:
                if NOT_MODIFIED in str(exc).lower():
                    continue  # this part reads as it did
                if len(parts) == 1:
                    raise
                raise _partly(exc, number - 1, len(parts), "edited") from exc

    async def delete(self, key: ConversationKey, message_id: str) -> None:
        """``deleteMessage`` on every part of the message (Telegram refuses after 48 hours)."""
        chat_id = chat_id_of(key)
        parts = part_ids(message_id)
        for number, part in enumerate(parts, start=1):
            remove = functools.partial(
                self._app.bot.delete_message, chat_id=chat_id, message_id=part
            )
            try:
                await self._delivery.call(
                    f"the deletion of message {part} in {key}", remove, chat_id=chat_id
                )
            except DeliveryError as exc:
                if len(parts) == 1:
                    raise
                raise _partly(exc, number - 1, len(parts), "deleted") from exc

    async def download(self, attachment: Attachment) -> bytes:
        """The file's bytes, fetched with the retries of every other call."""
        return await download(
            self._app.bot, self._delivery, attachment, limit=self._max_download_bytes
        )

    # --- PTB callbacks ----------------------------------------------------------------

    async def _on_update(self, update: Update, context: _Context) -> None:
        await self._intake.polled(update)

    async def _on_error(self, update: object, context: _Context) -> None:
        """Anything a handler raised: logged with its stack; the next update is handled."""
        if isinstance(update, Update) and context.error is not None:
            await self._intake.failed(update, context.error)
        else:
            self._intake.log_failure("a PTB task", context.error)

    def _on_polling_error(self, exc: TelegramError) -> None:
        # PTB retries on its own; a Conflict means another process polls with this token.
        self._watch.failed(self._redact(exc))
        logger.warning("polling Telegram failed, retrying: %s", self._redact(exc))

    def _redact(self, exc: TelegramError) -> str:
        return exc.message.replace(self._token, "***")
