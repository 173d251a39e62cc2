"""The Slack simulator: an aiohttp server on 127.0.0.1 that the real ``AsyncWebClient`` and
Bolt ``AsyncApp`` use as their Web API (``base_url=sim.api_url``), and that records every
call so tests can await it instead of sleeping.

Routes: ``/api/{method}`` (Web API), ``/upload/{file_id}`` (``files_upload_v2``'s upload
step), ``/response/...`` (``response_url``), ``/link/`` (Socket Mode WebSocket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.simulators.slack import defaults
from bot.simulators.slack.errors import MethodError, SimulatorError
from bot.simulators.slack.events import RESPONSE_URL_ROUTE
from bot.simulators.slack.faults import POSTING_METHODS, ChannelLimit, FaultPlan
from bot.simulators.slack.http_params import ApiRequest, read_api_request
from bot.simulators.slack.records import (
    Call,
    EphemeralMessage,
    Fault,
    RecordLog,
    ResponseUrlPost,
    TimestampClock,
    UploadedFile,
)
from bot.simulators.slack.responses import apply_response
from bot.simulators.slack.socket_mode import SocketModeHub
from bot.simulators.slack.web_api import MethodRequest, WebApi
from bot.simulators.slack.workspace import (
    JsonDict,
    Message,
    SimulatedChannel,
    SimulatedUser,
    SimulatedUserGroup,
    Workspace,
)

logger = logging.getLogger(__name__)


def _describe_call(call: Call) -> str:
    late = " late" if call.late else ""
    return f"{call.method}[{call.status}{' ' + call.error if call.error else ''}{late}]"


def _describe_post(post: ResponseUrlPost) -> str:
    return f"response_url({post.channel}, {post.body.get('text', '')!r})"


class SlackSimulator:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = defaults.BOT_TOKEN,
        app_token: str = defaults.APP_TOKEN,
        with_defaults: bool = True,
        clock: TimestampClock | None = None,
    ) -> None:
        """``with_defaults`` adds the bot user, agents Alice and Bob, and ``#support-agents``."""
        self._host = host
        self._requested_port = port
        self.bot_token = bot_token
        self.app_token = app_token
        self.workspace = Workspace(clock=clock or TimestampClock())
        self._calls: RecordLog[Call] = RecordLog(describe=_describe_call)
        self._response_posts: RecordLog[ResponseUrlPost] = RecordLog(describe=_describe_post)
        self._ephemerals: RecordLog[EphemeralMessage] = RecordLog(describe=lambda e: e.text)
        self._files: RecordLog[UploadedFile] = RecordLog(describe=lambda f: f.name)
        self._web_api = WebApi(
            workspace=self.workspace, ephemerals=self._ephemerals, files=self._files
        )
        self._faults = FaultPlan()
        self._channel_limit: ChannelLimit | None = None
        self._stopping = asyncio.Event()  # releases the answers held back by slow_next
        self._socket_mode = SocketModeHub()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        if with_defaults:
            self.workspace.add_defaults()

    # -- lifecycle

    async def start(self) -> None:
        self._stopping.clear()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post(RESPONSE_URL_ROUTE, self._response_url)
        app.router.add_get("/link/", self._socket_mode.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        logger.info("Slack simulator serving the Web API at %s", self.api_url)

    async def stop(self) -> None:
        self._stopping.set()
        await self._socket_mode.close()
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
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._port is None:
            raise SimulatorError("the Slack simulator is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``AsyncWebClient`` (with the trailing slash it expects)."""
        return f"{self.url}/api/"

    @property
    def response_url_base(self) -> str:
        """For ``SlackEventSender(response_url_base=...)``: its response URLs land here."""
        return f"{self.url}/response/"

    # -- the workspace

    def add_user(
        self,
        id: str,  # Slack's name for the field
        name: str,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
        tz: str = "Europe/Berlin",
    ) -> SimulatedUser:
        user = SimulatedUser(
            id=id,
            name=name,
            real_name=real_name or name,
            display_name=display_name if display_name is not None else name,
            is_bot=is_bot,
            tz=tz,
        )
        self.workspace.users[id] = user
        return user

    def add_usergroup(
        self,
        id: str,  # Slack's name for the field
        handle: str,
        users: tuple[str, ...],
    ) -> None:
        """A user group (``usergroups.list``, ``usergroups.users.list``); replaces one."""
        self.workspace.usergroups[id] = SimulatedUserGroup(id=id, handle=handle, users=users)

    def add_channel(
        self,
        id: str,  # Slack's name for the field
        name: str,
        *,
        is_member: bool = True,
        is_private: bool = False,
    ) -> SimulatedChannel:
        channel = SimulatedChannel(id=id, name=name, is_member=is_member, is_private=is_private)
        self.workspace.channels[id] = channel
        return channel

    def add_message(
        self, *, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> Message:
        """A message a person wrote in Slack (it arrives in the app as an event, not an API
        call); it then shows in ``messages_in`` and ``conversations.replies``."""
        self.workspace.user(user)
        message = Message(
            channel=self.workspace.channel(channel).id,
            ts=self.workspace.next_ts(),
            text=text,
            user=user,
            thread_ts=thread_ts,
        )
        return self.workspace.post(message)

    def messages_in(self, channel: str, thread_ts: str | None = None) -> list[Message]:
        """The messages as they stand now: the channel's history, or with ``thread_ts`` the
        thread (its parent first), like ``conversations.history``/``.replies``."""
        if thread_ts is None:
            return self.workspace.history(channel)
        return self.workspace.thread(channel, thread_ts)

    @property
    def ephemerals(self) -> list[EphemeralMessage]:
        return list(self._ephemerals.items)

    @property
    def files(self) -> list[UploadedFile]:
        return list(self._files.items)

    # -- recorded calls

    @property
    def calls(self) -> list[Call]:
        return list(self._calls.items)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self._calls.items if call.method == method]

    def mark(self) -> int:
        """The index the next call gets; pass it as ``since=`` to ignore earlier calls."""
        return len(self._calls)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> Call:
        """The first call to ``method`` (at index ``since`` or later) that ``predicate``
        accepts, whether it already happened or is yet to come."""
        return await self._calls.wait_for(
            lambda call: call.method == method and (predicate is None or predicate(call)),
            since=since,
            timeout=timeout,
            what=f"matching {method} call",
        )

    @property
    def response_posts(self) -> list[ResponseUrlPost]:
        return list(self._response_posts.items)

    async def wait_for_response_post(
        self,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> ResponseUrlPost:
        return await self._response_posts.wait_for(
            predicate or (lambda post: True),
            since=since,
            timeout=timeout,
            what="matching response_url POST",
        )

    # -- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail without taking effect; with
        ``after``, only once that many more calls have worked (counted after the faults
        already planned).

        Default: HTTP 429 with ``Retry-After: retry_after`` and ``error: ratelimited``. A 5xx
        ``status`` answers ``internal_error``/``service_unavailable``; ``error`` alone answers
        HTTP 200 ``{"ok": false, "error": error}`` (e.g. ``"channel_not_found"``).
        """
        self._faults.schedule(
            method, status=status, error=error, retry_after=retry_after, times=times, after=after
        )

    def limit_channel_posts(self, *, per_second: float = 1.0, burst: int = 3) -> None:
        """Refuse posts in a channel beyond ``per_second`` a second (after a burst of
        ``burst``) with 429 and ``Retry-After``, as Slack does; see
        :class:`~bot.simulators.slack.faults.ChannelLimit`."""
        self._channel_limit = ChannelLimit(per_second=per_second, burst=burst)

    def slow_next(self, method: str, *, delay: float, times: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` take effect at once (a post is in the
        thread, the call is recorded with ``late=True``) but answer only ``delay`` seconds
        later: past the client's time-out, as when Slack is slow, the client never learns
        that the call worked."""
        self._faults.schedule_slow(method, delay=delay, times=times)

    # -- Socket Mode

    async def wait_for_socket_mode(
        self,
        *,
        timeout: float = 5.0,
    ) -> None:
        await self._socket_mode.wait_connected(timeout=timeout)

    async def send_socket_mode(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Push ``payload`` (e.g. ``events.event_callback_body(...)``) to the connected app as
        ``events_api``, ``interactive`` or ``slash_commands``; returns its acknowledgement."""
        return await self._socket_mode.send(
            envelope_type,
            payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            timeout=timeout,
        )

    # -- HTTP handlers

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        delay = self._faults.take_slow(method)
        status: int
        body: JsonDict
        headers: dict[str, str]
        try:
            api_request = await read_api_request(request)
        except MethodError as exc:
            api_request = ApiRequest(params={}, uploads={}, token=None)
            status, body, headers = 200, {"ok": False, "error": exc.error}, {}
        else:
            status, body, headers = self._answer(method, api_request, request)
        self._calls.append(
            Call(
                method=method,
                params=api_request.params,
                at=datetime.now(UTC),
                status=status,
                error=None if body.get("ok") else body.get("error"),
                late=delay is not None,
            )
        )
        if delay is not None:
            # The client has usually given up and closed the connection by then; writing
            # the answer to it fails quietly inside aiohttp.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, api_request: ApiRequest, request: web.Request
    ) -> tuple[int, JsonDict, dict[str, str]]:
        """Status, body and headers: an injected fault, an auth error, or the method's answer."""
        fault = self._faults.take(method) or self._over_channel_limit(method, api_request)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            return fault.status, {"ok": False, "error": fault.error}, headers
        # Socket Mode's method takes the app-level token; everything else the bot token.
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not api_request.token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if api_request.token != expected:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "apps.connections.open":
            url = f"ws://{request.host}/link/?ticket={uuid.uuid4()}&app_id={defaults.APP_ID}"
            return 200, {"ok": True, "url": url}, {}
        origin = f"{request.scheme}://{request.host}"
        method_request = MethodRequest(api_request.params, api_request.uploads, origin)
        try:
            result = self._web_api.call(method, method_request)
        except MethodError as exc:
            body: JsonDict = {"ok": False, "error": exc.error}
            if exc.error == "unknown_method":
                body["req_method"] = method
            return 200, body, {}
        return 200, {"ok": True, **result}, {"X-OAuth-Scopes": defaults.BOT_SCOPES}

    def _over_channel_limit(self, method: str, api_request: ApiRequest) -> Fault | None:
        """A 429 for a post beyond its channel's limit, if one is set."""
        channel = api_request.params.get("channel")
        if self._channel_limit is None or method not in POSTING_METHODS or not channel:
            return None
        wait = self._channel_limit.take(str(channel))
        return None if wait is None else Fault(status=429, error="ratelimited", retry_after=wait)

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._web_api.receive_upload(request.match_info["file_id"], await request.read()):
            return web.Response(status=404, text="file_not_found")
        # files.slack.com answers the upload in plain text; the SDK only checks the status.
        return web.Response(text=f"OK - {request.content_length or 0}")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        channel = request.match_info["channel"]
        message_ts = request.match_info["message_ts"]
        post = ResponseUrlPost(
            channel=channel,
            message_ts=None if message_ts == "-" else message_ts,
            body=body,
            at=datetime.now(UTC),
        )
        apply_response(post, workspace=self.workspace, ephemerals=self._ephemerals)
        self._response_posts.append(post)
        return web.Response(text="ok")
