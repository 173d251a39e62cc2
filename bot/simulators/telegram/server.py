"""The Telegram simulator: an aiohttp server that python-telegram-bot uses as its Bot API
(``base_url=f"{sim.api_url}/bot"``), and the test API around it.

Routes: ``/bot{token}/{method}`` (the Bot API) and ``/file/bot{token}/{file_path}`` (files
customers sent, as PTB fetches them with ``base_file_url``); anything else answers 404.
"""

# The test API takes ``timeout=`` arguments on purpose: tests await recorded calls with a
# bound, and the simulator's long polls take Telegram's own ``timeout`` parameter.

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from .answers import ApiError, Described
from .chats import Chats
from .faults import FaultPlan
from .files import FileStore
from .inject import CustomerEvents
from .methods import ApiMethod, BotApi
from .params import read_params
from .records import Call, JsonDict, SentMessage, Signal
from .updates import UpdateQueue
from .webhook import WebhookDelivery, WebhookSender

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAHsimulatedTokenForTandemTests_0"  # noqa: S105 - made up
# Downloads are no Bot API method; they are recorded, and fail on request, under this name.
FILE_DOWNLOAD = "file"


class TelegramSimulator(CustomerEvents):
    """A fake Telegram Bot API on ``127.0.0.1``; see the package docstring.

    Use ``async with TelegramSimulator() as sim:`` or :meth:`start`/:meth:`stop`. Point a
    client at :attr:`api_url` (the root; requests go to ``{api_url}/bot{token}/{method}``).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "tandem_test_bot",
        bot_first_name: str = "Tandem",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
        webhook_connections: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_user: JsonDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._host = host
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self.calls: list[Call] = []
        self._signal = Signal()
        self._faults = FaultPlan(clock=clock)
        chats = Chats(bot_user=self.bot_user, signal=self._signal)
        updates = UpdateQueue(signal=self._signal)
        files = FileStore()
        open_queries: set[str] = set()
        self._webhook = WebhookSender(
            updates=updates,
            signal=self._signal,
            retry_delay=webhook_retry_delay,
            connections=webhook_connections,
        )
        self._api = BotApi(
            chats=chats,
            updates=updates,
            webhook=self._webhook,
            files=files,
            open_queries=open_queries,
            signal=self._signal,
        )
        super().__init__(chats=chats, updates=updates, files=files, open_queries=open_queries)

    # --- lifecycle --------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:43121`` (the value of TELEGRAM_API_URL)."""
        if self.port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # A short shutdown timeout: pending long polls are woken by stop() anyway.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._api.closing = False
        self._webhook.start()
        logger.info("Telegram simulator on %s", self.api_url)

    async def stop(self) -> None:
        self._api.closing = True
        self._signal.notify()  # returns every pending long poll
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- chats ------------------------------------------------------------------------

    def add_chat(self, chat: JsonDict) -> None:
        """Make a chat known, as if its customer had written first (sends to unknown chats
        fail with "chat not found", as they do for a real bot)."""
        self._chats.known[int(chat["id"])] = chat

    def block(self, chat_id: int) -> None:
        """The customer blocks the bot: every later send to the chat answers 403."""
        self._chats.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._chats.blocked.discard(chat_id)

    # --- what the bot did -------------------------------------------------------------

    @property
    def commands(self) -> list[JsonDict]:
        """The bot's command list, as setMyCommands last set it."""
        return self._api.commands

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every attempt to POST an update to the webhook, in order."""
        return self._webhook.deliveries

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """The messages the bot sent to ``chat_id``, in order, as they look now."""
        return [sent for (chat, _), sent in self._chats.sent.items() if chat == chat_id]

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates not yet confirmed by getUpdates or accepted by the webhook."""
        return list(self._updates.pending)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
    ) -> Call:
        """The first recorded call to ``method`` (matching ``predicate``), once there is one."""
        calls = await self.wait_for_calls(method, 1, predicate, timeout=timeout)
        return calls[0]

    async def wait_for_calls(
        self,
        method: str,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> list[Call]:
        """All recorded calls to ``method`` (matching ``predicate``), once there are ``count``."""

        def probe() -> list[Call] | None:
            found = [c for c in self.calls_to(method) if predicate is None or predicate(c)]
            return found if len(found) >= count else None

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: (
                f"{count} call(s) to {method}; calls so far: "
                f"{[(c.method, c.status) for c in self.calls]}"
            ),
        )

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """The bot's messages to ``chat_id``, once there are at least ``count``."""

        def probe() -> list[SentMessage] | None:
            sent = self.messages_to(chat_id)
            return sent if len(sent) >= count else None

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: (
                f"{count} message(s) to chat {chat_id}; "
                f"got {[m.text[:40] for m in self.messages_to(chat_id)]}"
            ),
        )

    async def wait_for_long_poll(self, *, timeout: float = 5.0) -> None:
        """Returns once a getUpdates call is waiting here for updates."""
        await self._signal.wait_until(
            lambda: True if self._api.polls_waiting else None,
            timeout=timeout,
            what=lambda: "a getUpdates call",
        )

    async def wait_for_webhook_delivery(
        self, update_id: int, *, timeout: float = 5.0
    ) -> WebhookDelivery:
        """The first successful (2xx) webhook delivery of ``update_id``."""

        def probe() -> WebhookDelivery | None:
            return next(
                (
                    d
                    for d in self.webhook_deliveries
                    if d.update_id == update_id and d.status is not None and d.status < 300
                ),
                None,
            )

        return await self._signal.wait_until(
            probe,
            timeout=timeout,
            what=lambda: f"delivery of update {update_id}; got {self.webhook_deliveries}",
        )

    # --- faults -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error, before looking at them;
        with ``after``, only once that many more calls went through (the third part of a long
        message: ``after=2``).

        429 carries ``parameters.retry_after`` as Telegram does; 403 defaults to "bot was
        blocked by the user"; any other status gets Telegram's usual description.
        ``method`` :data:`FILE_DOWNLOAD` makes the next downloads of files fail.
        """
        self._faults.schedule(
            method,
            status=status,
            retry_after=retry_after,
            times=times,
            description=description,
            after=after,
        )

    def flood(
        self,
        method: str,
        *,
        seconds: float,
        chat_id: int | None = None,
        from_next_call: bool = False,
    ) -> None:
        """Telegram's flood control: for ``seconds``, every call to ``method`` (in ``chat_id``
        only, when given) answers 429 with the seconds left as ``retry_after``, so a client
        that does not wait as asked is refused again.

        The seconds count from now, or, with ``from_next_call``, from the next such call, as
        Telegram counts them from the call it refuses: that call is asked to wait
        ``seconds`` exactly, however long the client took to make it.
        """
        self._faults.flood(method, seconds=seconds, chat_id=chat_id, from_next_call=from_next_call)

    # --- HTTP -------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        name = request.match_info["method"]
        params: JsonDict = {}
        try:
            params = await self._read_params(request)
            name, method = self._method(name, params)
            result = await method(params)
        except ApiError as exc:
            self._record(Call(name, params, arrived, exc.status))
            return web.json_response(exc.body(), status=exc.status)
        self._record(Call(name, params, arrived))
        if isinstance(result, Described):
            return web.json_response(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        params: JsonDict = {"file_path": request.match_info["file_path"]}
        try:
            content = self._file_content(request.match_info["token"], params["file_path"])
        except ApiError as exc:
            self._record(Call(FILE_DOWNLOAD, params, arrived, exc.status))
            return web.json_response(exc.body(), status=exc.status)
        self._record(Call(FILE_DOWNLOAD, params, arrived))
        return web.Response(body=content, content_type="application/octet-stream")

    def _file_content(self, token: str, file_path: str) -> bytes:
        """The bytes at ``file_path``; checks the token first, then injected faults."""
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        if fault := self._faults.take(FILE_DOWNLOAD):
            raise fault
        content = self._files.content_at(file_path)
        if content is None:
            raise ApiError(404, "Not Found")
        return content

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    def _method(self, name: str, params: JsonDict) -> tuple[str, ApiMethod]:
        """The method's canonical name and implementation; raises an injected fault first."""
        canonical, method = self._api.lookup(name)
        if fault := self._faults.take(canonical, params):
            raise fault
        if method is None:
            raise ApiError(404, "Not Found: method not found")
        return canonical, method

    async def _read_params(self, request: web.Request) -> JsonDict:
        if request.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        return await read_params(request)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._signal.notify()
