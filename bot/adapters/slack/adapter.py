"""The Slack adapter: the agents' desk (:class:`handoff.ports.AgentDesk`) and the source of
their replies and actions (handed to a :class:`handoff.ports.AgentEventHandler`).

Socket Mode when an app-level token is given; HTTP mode, at ``/slack/events`` on the
service's :class:`~bot.http.HttpServer`, when a signing secret is given; both if both are.
"""

from __future__ import annotations

import logging
import re

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.http import HttpServer
from handoff.drafts import DraftOffer, DraftSender
from handoff.forwarding import ForwardingDesk
from handoff.model import (
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
)
from handoff.ports import AgentEventHandler
from handoff.privacy.desk import RevealOffer
from handoff.privacy.forget import ForgetRequest
from handoff.teaching_model import TeachOffer

from .app import EVENTS_PATH, SlackInbound
from .approvals import APPROVE_ACTION, DECLINE_ACTION, ApprovalListener, SlackApprovers
from .delivery import RetryPolicy, describe, error_code, web_client
from .desk import SlackDesk
from .directory import Directory
from .drafts import (
    EDIT_DRAFT_ACTION,
    EDIT_VIEW,
    REQUEST_APPROVAL_ACTION,
    SEND_DRAFT_ACTION,
    DraftListener,
    SlackDraftOffers,
)
from .errors import SlackAdapterError
from .forget import ERASE_ACTION, EraseHandler, EraseListener, SlackForgetDesk
from .ladder import SlackLadder
from .listeners import HandoffResolver, Listeners
from .pacing import ChannelPacer, PacingPolicy
from .reveal import (
    REVEAL_ACTION,
    RevealHandler,
    RevealListener,
    SlackRevealOffers,
    SlackThreadCleaner,
)
from .tagged import TaggedPoster
from .teach_form import TEACH_OTHER_ACTION, TEACH_SHORTCUT, TEACH_VIEW
from .teaching import TEACH_ACTION, SlackTeachOffers, TeachHandler, TeachListener
from .translate import BotIdentity

logger = logging.getLogger(__name__)

# Public channels start with C; private ones made before 2021 with G.
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
REFUSED_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class SlackAdapter(ForwardingDesk):
    """Posts handoffs in ``agent_channel`` and passes agents' replies and actions on.

    The HTTP route is added at construction, because aiohttp freezes its routes when the
    server starts; it answers 503 (Slack retries later) until :meth:`start` and after
    :meth:`stop`. ``resolve_handoff_number`` lets ``/tandem claim #42`` find the thread of
    handoff 42; without it, commands name threads by link only.
    """

    def __init__(
        self,
        *,
        bot_token: str,
        api_url: str,
        agent_channel: str,
        handler: AgentEventHandler,
        app_token: str | None = None,
        signing_secret: str | None = None,
        http: HttpServer | None = None,
        note_prefix: str = "note:",
        retry: RetryPolicy | None = None,
        socket_mode_timeout: float = 30.0,
        drain_timeout: float = 10.0,
        pacer: ChannelPacer | None = None,
        wait_up_to: float = PacingPolicy().wait_up_to,
        route_channels: frozenset[str] = frozenset(),
        approvers: tuple[str, ...] = (),
    ) -> None:
        if app_token is None and signing_secret is None:
            raise ValueError("Slack needs an app token (Socket Mode) or a signing secret (HTTP)")
        if signing_secret is not None and http is None:
            raise ValueError("HTTP mode needs the service's HTTP server for /slack/events")
        if not CHANNEL_ID.fullmatch(agent_channel):
            raise ValueError(
                f"the agent channel must be a channel ID such as C0123456789, not "
                f"{agent_channel!r}: Slack's events name channels by ID"
            )
        policy = retry or RetryPolicy()
        self._api_url = api_url
        self._app_token = app_token
        self._channel = agent_channel
        self._socket_mode_timeout = socket_mode_timeout
        self._drain_timeout = drain_timeout
        self._client = web_client(token=bot_token, api_url=api_url, policy=policy)
        tagged = TaggedPoster(
            poster=web_client(
                token=bot_token, api_url=api_url, policy=policy, retry_uncertain=False
            ),
            reader=self._client,
            policy=policy,
        )
        self._pacer = pacer
        self._desk = SlackDesk(
            client=self._client,
            tagged=tagged,
            channel=agent_channel,
            pacer=pacer,
            wait_up_to=wait_up_to,
        )
        super().__init__(inner=self._desk)
        listeners = Listeners(
            channel=agent_channel,
            handler=handler,
            desk=self._desk,
            directory=Directory(client=self._client),
            note_prefix=note_prefix,
            others=route_channels,
        )
        self._listeners = listeners
        # Personal data (handoff.privacy): the Reveal button under masked messages, the
        # Erase button under a customer's /forget request, and their presses.
        self._offers = SlackRevealOffers(posts=self._desk.own_posts)
        self._forget = SlackForgetDesk(posts=self._desk.own_posts, channel=agent_channel)
        directory = Directory(client=self._client)
        self._reveal = RevealListener(
            channel=agent_channel,
            directory=directory,
            inflight=listeners.inflight,
            others=route_channels,
        )
        self._erase = EraseListener(
            channel=agent_channel,
            directory=directory,
            inflight=listeners.inflight,
            others=route_channels,
        )
        # Teaching the bot (handoff.teaching): offers under failed turns, and the pick.
        self._teach_offers = SlackTeachOffers(posts=self._desk.own_posts)
        self._teach = TeachListener(
            client=self._client,
            channel=agent_channel,
            directory=directory,
            inflight=listeners.inflight,
            others=route_channels,
        )
        # Drafts for agents (handoff.drafts): the bot's answers, each with Send.
        self._draft_offers = SlackDraftOffers(posts=self._desk.own_posts)
        self._drafts = DraftListener(
            client=self._client,
            channel=agent_channel,
            directory=directory,
            inflight=listeners.inflight,
            others=route_channels,
        )
        # Approval for sensitive topics (handoff.approvals): who approves, their pings.
        self.approvers = SlackApprovers(
            client=self._client, approvers=approvers, posts=self._desk.own_posts
        )
        self._approvals = ApprovalListener(
            client=self._client,
            channel=agent_channel,
            directory=directory,
            inflight=listeners.inflight,
            others=route_channels,
        )
        self._inbound = SlackInbound(
            bolt_client=web_client(token=None, api_url=api_url, policy=policy),
            signing_secret=signing_secret,
            listeners=listeners,
            actions={
                REVEAL_ACTION: self._reveal.on_reveal,
                ERASE_ACTION: self._erase.on_erase,
                TEACH_ACTION: self._teach.on_teach,
                TEACH_OTHER_ACTION: self._teach.on_other,
                SEND_DRAFT_ACTION: self._drafts.on_send,
                EDIT_DRAFT_ACTION: self._drafts.on_edit,
                REQUEST_APPROVAL_ACTION: self._approvals.on_request,
                APPROVE_ACTION: self._approvals.on_approve,
                DECLINE_ACTION: self._approvals.on_decline,
            },
            views={EDIT_VIEW: self._drafts.on_submit, TEACH_VIEW: self._teach.on_submit},
            shortcuts={TEACH_SHORTCUT: self._teach.on_shortcut},
        )
        if signing_secret is not None and http is not None:
            http.add_route("POST", EVENTS_PATH, self._inbound.handle_http)
        self._http_mode = signing_secret is not None
        self.identity: BotIdentity | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def start(
        self,
        *,
        resolve_handoff_number: HandoffResolver | None = None,
        reveal: RevealHandler | None = None,
        erase: EraseHandler | None = None,
        teach: TeachHandler | None = None,
        send_draft: DraftSender | None = None,
    ) -> None:
        """Learn who the bot is (which proves the token), then take Slack's requests.

        ``resolve_handoff_number`` (the core's, built after this adapter) lets
        ``/tandem claim #42`` find the thread of handoff 42; ``reveal`` and ``erase`` handle
        the Reveal and Erase buttons of personal data; ``teach`` the intents agents pick
        to teach the bot; ``send_draft`` the drafts and saved replies agents send.
        """
        self._listeners.resolve_handoff_number = resolve_handoff_number
        self._reveal.handler = reveal
        self._erase.handler = erase
        self._teach.handler = teach
        self._drafts.handler = send_draft
        self._approvals.handler = send_draft
        self._listeners.saved_replies = send_draft
        identity = await self._introduce()
        self.identity = identity
        self._inbound.open(identity)
        try:
            if self._app_token is not None:
                url = await self._socket_mode_url(self._app_token)
                await self._inbound.connect_socket_mode(
                    app_token=self._app_token, url=url, timeout=self._socket_mode_timeout
                )
        except BaseException:
            await self.stop()
            raise
        modes = [
            mode for mode, on in (("Socket Mode", self._app_token), ("HTTP", self._http_mode)) if on
        ]
        logger.info(
            "Slack: bot %s in team %s, handoffs in %s, requests by %s",
            identity.user_id,
            identity.team_id,
            self._channel,
            " and ".join(modes),
        )

    async def stop(self) -> None:
        """Stop taking requests and let those being handled finish."""
        await self._inbound.close(drain_timeout=self._drain_timeout)
        if self._pacer is not None:
            await self._pacer.close()

    async def _introduce(self) -> BotIdentity:
        try:
            answer = await self._client.auth_test()
        except SlackApiError as exc:
            if error_code(exc) in REFUSED_TOKEN_ERRORS:
                raise SlackAdapterError(
                    f"Slack refused SLACK_BOT_TOKEN (auth.test at {self._api_url} answered "
                    f"{describe(exc)}); copy the Bot User OAuth Token again from the app's "
                    "'OAuth & Permissions' page"
                ) from exc
            raise SlackAdapterError(
                f"auth.test at {self._api_url} failed: {describe(exc)}"
            ) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackAdapterError(
                f"cannot reach the Slack Web API at {self._api_url}: {exc!r}"
            ) from exc
        if not answer.get("bot_id") or not answer.get("user_id"):
            raise SlackAdapterError(
                "SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-...)"
            )
        return BotIdentity(
            user_id=str(answer["user_id"]),
            bot_id=str(answer["bot_id"]),
            team_id=str(answer.get("team_id") or ""),
            team_url=str(answer.get("url") or ""),
        )

    async def _socket_mode_url(self, app_token: str) -> str:
        try:
            answer = await self._client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise SlackAdapterError(
                f"Slack refused SLACK_APP_TOKEN (apps.connections.open answered "
                f"{describe(exc)}); it must be an app-level token with the connections:write "
                "scope, and Socket Mode must be on in the app's settings"
            ) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackAdapterError(
                f"cannot reach the Slack Web API at {self._api_url}: {exc!r}"
            ) from exc
        return str(answer["url"])

    # --- AgentDesk ----------------------------------------------------------------------

    def ladder(self, *, ping: tuple[str, ...], escalation_channel: str | None) -> SlackLadder:
        """The SLA ladder's pings (:class:`handoff.sla_watch.SlaAlerts`) in this workspace."""
        return SlackLadder(client=self._client, ping=ping, escalation_channel=escalation_channel)

    # The rest of the port is forwarded by ForwardingDesk; these two only narrow what is
    # returned: Slack always has a thread and a post to show.

    async def open_handoff(self, ticket: HandoffTicket) -> DeskThread:
        return await self._desk.open_handoff(ticket)

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str:
        return await self._desk.relay_to_agents(thread, message, customer=customer)

    # --- RevealOffers -------------------------------------------------------------------

    async def offer_reveal(self, thread: DeskThread, offer: RevealOffer) -> None:
        await self._offers.offer_reveal(thread, offer)

    # --- ForgetDesk ---------------------------------------------------------------------

    async def ask_to_erase(self, request: ForgetRequest) -> None:
        await self._forget.ask_to_erase(request)

    # --- TeachOffers -------------------------------------------------------------------

    async def offer_teaching(self, thread: DeskThread, offer: TeachOffer) -> None:
        await self._teach_offers.offer_teaching(thread, offer)

    # --- DraftOffers -------------------------------------------------------------------

    async def offer_drafts(self, thread: DeskThread, offer: DraftOffer) -> None:
        await self._draft_offers.offer_drafts(thread, offer)

    # --- ThreadCleaner ------------------------------------------------------------------

    async def delete_thread(self, thread: DeskThread) -> int:
        """Delete Tandem's posts in ``thread`` (an erased customer's), once started."""
        return await self._cleaner().delete_thread(thread)

    async def delete_file(self, file_id: str) -> None:
        await self._cleaner().delete_file(file_id)

    def _cleaner(self) -> SlackThreadCleaner:
        assert self.identity is not None, "start the adapter first"
        return SlackThreadCleaner(
            client=self._client, bot_id=self.identity.bot_id, user_id=self.identity.user_id
        )
