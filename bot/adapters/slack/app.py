"""The Bolt app: Slack's events, card buttons and ``/tandem`` commands in, neutral
:class:`~handoff.model.AgentReply` and :class:`~handoff.model.AgentAction` out.

Requests arrive over Socket Mode, or over HTTP at ``/slack/events`` on the service's own
aiohttp server (events, interactivity and commands share the path, as in Bolt's default).
Bolt checks every HTTP request's signature and age before anything else runs: an unsigned,
wrongly signed or replayed request is answered 401 and goes no further.

Bolt is given no token: ``authorize`` tells it who the app is (from the adapter's
``auth.test``), which is all its built-in "ignore my own events" check needs. Every Web API
call goes through the adapter's own client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryError
from handoff.model import Agent, AgentAction, AgentReply, DeskThread
from handoff.ports import AgentEventHandler

from .dedupe import RecentIds, SkipRedeliveries
from .desk import SlackDesk
from .directory import Directory
from .errors import SlackAdapterError
from .inflight import InFlight
from .markup import mentioned_users, to_plain_text
from .translate import (
    CARD_ACTIONS,
    SLASH_COMMAND,
    USAGE,
    BotIdentity,
    Ignored,
    Refusal,
    button_press,
    classify_message,
    parse_command,
)

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
ON_IT = "On it."
FAILED_REPLY = (
    "Tandem hit an error while passing your message on, so it may not have reached the "
    "customer. The details are in Tandem's log."
)
FAILED_ACTION = "Tandem hit an error while doing that. The details are in Tandem's log."
# Slack wants a command acknowledged within 3 seconds; the lookup must leave time for that.
RESOLVE_TIMEOUT = 2.0

HandoffResolver = Callable[[int], Awaitable[DeskThread | None]]


class _ClientTokenWarning(logging.Filter):
    """``AsyncApp`` reads SLACK_BOT_TOKEN from the environment by itself and, given a client
    as well, warns that it will not use it. Not using it is the design here (the adapter
    takes its token as an argument and keeps it from Bolt), so the warning only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


BOLT_LOGGER = logging.getLogger("bot.adapters.slack.bolt")
BOLT_LOGGER.addFilter(_ClientTokenWarning())


class SlackInbound:
    """Bolt's listeners, and the two ways requests reach them."""

    def __init__(
        self,
        *,
        bolt_client: AsyncWebClient,
        signing_secret: str | None,
        channel: str,
        handler: AgentEventHandler,
        desk: SlackDesk,
        directory: Directory,
        note_prefix: str,
        resolve_handoff_number: HandoffResolver | None,
        seen: RecentIds | None = None,
    ) -> None:
        self._channel = channel
        self._handler = handler
        self._desk = desk
        self._directory = directory
        self._note_prefix = note_prefix
        self._resolve = resolve_handoff_number
        self._identity: BotIdentity | None = None
        self._closing = False
        self._socket: AsyncSocketModeHandler | None = None
        self._inflight = InFlight()

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            identity = self._identity
            assert identity is not None  # requests are refused until open() (see handle_http)
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id or identity.team_id,
                bot_user_id=identity.user_id,
                bot_id=identity.bot_id,
            )

        # Given explicitly, these never fall back to SLACK_SIGNING_SECRET and friends in the
        # environment. Without a secret (Socket Mode only) no HTTP route leads here.
        self.app = AsyncApp(
            name="tandem",
            logger=BOLT_LOGGER,
            client=bolt_client,
            signing_secret=signing_secret or "",
            authorize=authorize,
        )
        self.app.use(SkipRedeliveries(seen=seen or RecentIds()))
        self.app.event("message")(self._on_message)
        for action_id in CARD_ACTIONS:
            self.app.action(action_id)(self._on_button)
        self.app.command(SLASH_COMMAND)(self._on_command)

    # --- lifecycle ----------------------------------------------------------------------

    def open(self, identity: BotIdentity) -> None:
        """Start taking requests, as ``identity``."""
        self._identity = identity
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
        left = await self._inflight.wait(timeout=drain_timeout)
        if left:
            logger.warning("stopped with %s Slack request(s) still being handled", left)

    async def handle_http(self, request: web.Request) -> web.Response:
        """The ``/slack/events`` endpoint."""
        if self._identity is None or self._closing:
            # Slack redelivers events that were not taken: better than taking one that
            # nobody would handle.
            return web.Response(status=503, text="not running")
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # --- listeners: Bolt passes the arguments by name ----------------------------------

    async def _on_message(self, event: dict[str, Any]) -> None:
        """Bolt has acknowledged the event already (Events API listeners are auto-acked)."""
        async with self._inflight.track():
            identity = self._identity
            assert identity is not None
            draft = classify_message(
                event, channel=self._channel, me=identity, note_prefix=self._note_prefix
            )
            if isinstance(draft, Ignored):
                logger.debug("not relaying Slack message %s: %s", event.get("ts"), draft.reason)
                if draft.notice is not None and isinstance(event.get("user"), str):
                    thread = DeskThread(self._channel, str(event.get("thread_ts")))
                    agent = Agent(user_id=event["user"], display_name=event["user"])
                    await self._tell_quietly(thread, agent, draft.notice)
                return
            agent = await self._agent(draft.user_id)
            names = await self._directory.display_names(mentioned_users(draft.text))
            reply = AgentReply(
                thread=draft.thread,
                agent=agent,
                text=to_plain_text(draft.text, names=names),
                message_ts=draft.ts,
            )
            try:
                await self._handler.agent_reply(reply)
            except Exception:  # the top of this listener: log the stack, tell the agent
                logger.exception(
                    "handling %s's reply %s in thread %s failed",
                    agent.user_id,
                    reply.message_ts,
                    reply.thread.thread_ts,
                )
                await self._tell_quietly(reply.thread, agent, FAILED_REPLY)

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # first: Slack shows the agent an error after 3 seconds without it
        async with self._inflight.track():
            press = button_press(body, channel=self._channel)
            if press is None:
                logger.warning("ignored a Tandem button pressed outside the agent channel")
                return
            logger.info(
                "%s pressed %s on the card of handoff %s",
                press.user_id,
                press.command.value,
                press.handoff_id,
            )
            agent = await self._agent(press.user_id)
            await self._act(AgentAction(thread=press.thread, agent=agent, command=press.command))

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """The acknowledgement is the agent's answer (only they see it): "On it.", or what
        was wrong and how to type it."""
        async with self._inflight.track():
            parsed = parse_command(command, channel=self._channel)
            if isinstance(parsed, Refusal):
                await self._answer(ack, parsed.text)
                return
            thread = parsed.thread
            if thread is None:
                assert parsed.handoff_number is not None  # parse_command gives one of them
                found = await self._find(parsed.handoff_number)
                if isinstance(found, Refusal):
                    await self._answer(ack, found.text)
                    return
                thread = found
            await self._answer(ack, ON_IT)
            agent = await self._agent(parsed.user_id)
            await self._act(AgentAction(thread=thread, agent=agent, command=parsed.command))

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    async def _answer(ack: AsyncAck, text: str) -> None:
        """Acknowledge a command with ``text`` for the agent alone; explicitly JSON and
        ephemeral (Bolt would send text alone as a bare text/plain body)."""
        await ack(text=text, response_type="ephemeral")

    async def _agent(self, user_id: str) -> Agent:
        return Agent(user_id=user_id, display_name=await self._directory.display_name(user_id))

    async def _act(self, action: AgentAction) -> None:
        try:
            await self._handler.agent_action(action)
        except Exception:  # the top of a listener: log the stack, tell the agent
            logger.exception(
                "handling %s by %s in thread %s failed",
                action.command.value,
                action.agent.user_id,
                action.thread.thread_ts,
            )
            await self._tell_quietly(action.thread, action.agent, FAILED_ACTION)

    async def _find(self, number: int) -> DeskThread | Refusal:
        """The thread of handoff ``number``, or what to tell the agent instead."""
        if self._resolve is None:
            return Refusal(f"Tandem cannot look handoffs up by number here; use a link. {USAGE}")
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                thread = await self._resolve(number)
        except TimeoutError:
            logger.warning("looking up handoff #%s took over %ss", number, RESOLVE_TIMEOUT)
            return Refusal(f"Looking up handoff #{number} took too long; try again, or use a link.")
        except Exception:  # the injected lookup failed; the command must still be answered
            logger.exception("looking up handoff #%s failed", number)
            return Refusal(f"Tandem could not look up handoff #{number}; try a link instead.")
        if thread is None:
            return Refusal(f"There is no handoff #{number}. {USAGE}")
        return thread

    async def _tell_quietly(self, thread: DeskThread, agent: Agent, text: str) -> None:
        """Best effort: this is already the report of a failure."""
        try:
            await self._desk.tell_agent(thread, agent, text)
        except DeliveryError as exc:
            logger.warning("could not tell %s: %s", agent.user_id, exc)
