"""The Bolt app: Slack's events, card buttons and ``/tandem`` commands in, neutral
:class:`~handoff.model.AgentReply` and :class:`~handoff.model.AgentAction` out.

Requests arrive over Socket Mode, or over HTTP at ``/slack/events`` on the service's own
aiohttp server (events, interactivity and commands share the path, as in Bolt's default).
Every HTTP request's signature and age are checked before its body is read as anything
(see :mod:`.endpoint`); Bolt's own check, which parses first, is off.

Bolt runs each listener to its end before Slack gets its answer (``process_before_response``):
Slack is told an event was taken only once the core has it (see :mod:`.listeners`).

Bolt is given no token: ``authorize`` tells it who the app is (from the adapter's
``auth.test``), which is all its built-in "ignore my own events" check needs. Every Web API
call goes through the adapter's own client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from .endpoint import Refused, read_signed
from .errors import SlackAdapterError
from .listeners import Listeners
from .signature import SignatureCheck
from .translate import CARD_ACTIONS, SLASH_COMMAND, BotIdentity

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
NOT_RUNNING = Refused(503, "not running")
UNREADABLE = "malformed Slack request"


class _ClientTokenWarning(logging.Filter):
    """``AsyncApp`` reads SLACK_BOT_TOKEN from the environment by itself and, given a client
    as well, warns that it will not use it. Not using it is the design here (the adapter
    takes its token as an argument and keeps it from Bolt), so the warning only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


BOLT_LOGGER = logging.getLogger("bot.adapters.slack.bolt")
BOLT_LOGGER.addFilter(_ClientTokenWarning())


class SlackInbound:
    """Bolt's app, its listeners, and the two ways requests reach them."""

    def __init__(
        self,
        *,
        bolt_client: AsyncWebClient,
        signing_secret: str | None,
        listeners: Listeners,
        actions: Mapping[str, Callable[..., Awaitable[None]]] | None = None,
        views: Mapping[str, Callable[..., Awaitable[None]]] | None = None,
        shortcuts: Mapping[str, Callable[..., Awaitable[None]]] | None = None,
    ) -> None:
        self._listeners = listeners
        self._closing = False
        self._socket: AsyncSocketModeHandler | None = None
        self._check = SignatureCheck(secret=signing_secret) if signing_secret else None

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            identity = listeners.identity
            assert identity is not None  # requests are refused until open() (see handle_http)
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id or identity.team_id,
                bot_user_id=identity.user_id,
                bot_id=identity.bot_id,
            )

        # Given explicitly, these never fall back to SLACK_SIGNING_SECRET and friends in the
        # environment; the signature is checked before Bolt sees a request (handle_http).
        self.app = AsyncApp(
            name="tandem",
            logger=BOLT_LOGGER,
            client=bolt_client,
            signing_secret=signing_secret or "",
            authorize=authorize,
            request_verification_enabled=False,
            process_before_response=True,
        )
        self.app.error(_unreadable)
        self.app.event("message")(listeners.on_message)
        for action_id in CARD_ACTIONS:
            self.app.action(action_id)(listeners.on_button)
        self.app.command(SLASH_COMMAND)(listeners.on_command)
        # Buttons of other parts (the Reveal and Erase buttons of handoff.privacy).
        for action_id, listener in (actions or {}).items():
            self.app.action(action_id)(listener)
        # Modals' submissions (a draft edited before it is sent), by callback id.
        for callback_id, listener in (views or {}).items():
            self.app.view(callback_id)(listener)
        # Message shortcuts (the "Teach the bot this" on a customer's message), by callback id.
        for callback_id, listener in (shortcuts or {}).items():
            self.app.message_shortcut(callback_id)(listener)

    # --- lifecycle ----------------------------------------------------------------------

    def open(self, identity: BotIdentity) -> None:
        """Start taking requests, as ``identity``."""
        self._listeners.identity = identity
        self._closing = False

    async def connect_socket_mode(
        self,
        *,
        app_token: str,
        url: str,
        timeout: float,  # how long to try before start() fails
    ) -> None:
        """Open the Socket Mode connection at ``url`` (from ``apps.connections.open``)."""
        handler = AsyncSocketModeHandler(self.app, app_token=app_token, logger=BOLT_LOGGER)
        # The adapter fetched the URL itself, which proved the app token: left to itself the
        # SDK would fetch one, and retry a refused token forever instead of failing.
        handler.client.wss_uri = url
        try:
            async with asyncio.timeout(timeout):
                await handler.connect_async()  # type: ignore[no-untyped-call] # Bolt: untyped
        except TimeoutError:
            await handler.close_async()  # type: ignore[no-untyped-call] # Bolt: untyped
            raise SlackAdapterError(
                f"could not open the Socket Mode connection within {timeout:.0f}s"
            ) from None
        self._socket = handler

    async def close(self, *, drain_timeout: float) -> None:
        """Stop taking requests; wait up to ``drain_timeout`` for those being handled."""
        self._closing = True
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call] # Bolt: untyped
            self._socket = None
        left = await self._listeners.inflight.wait(timeout=drain_timeout)
        if left:
            logger.warning("stopped with %s Slack request(s) still being handled", left)

    async def handle_http(self, request: web.Request) -> web.Response:
        """The ``/slack/events`` endpoint."""
        if self._listeners.identity is None or self._closing or self._check is None:
            # Slack redelivers events that were not taken: better than taking one that
            # nobody would handle.
            return NOT_RUNNING.response()
        read = await read_signed(request, self._check)
        if isinstance(read, Refused):
            return read.response()
        return await to_aiohttp_response(await self.app.async_dispatch(read))


async def _unreadable(error: Exception) -> BoltResponse:
    """Bolt's error handler. Tandem's listeners catch their own errors, so what reaches
    here is Bolt failing to read a signed payload of an unexpected shape: answered 400 and
    logged in one line, since the payload came from outside."""
    logger.warning("could not read a Slack request: %s: %s", type(error).__name__, error)
    return BoltResponse(status=400, body=UNREADABLE)
