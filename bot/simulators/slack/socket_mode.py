"""Socket Mode: the WebSocket that ``apps.connections.open`` hands out, on the simulator.

Slack greets a new connection with ``hello``, then pushes envelopes
(``{"envelope_id", "type", "payload", "accepts_response_payload", ...}``) that the app
acknowledges by sending back ``{"envelope_id", "payload"?}``. Ping/pong is aiohttp's
automatic reply, which is all the SDK's keep-alive needs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bot.simulators.slack import defaults
from bot.simulators.slack.errors import WaitTimeout

logger = logging.getLogger(__name__)

ENVELOPE_TYPES = ("events_api", "interactive", "slash_commands")


class SocketModeHub:
    """The open Socket Mode connections; envelopes go to the newest one, as Slack picks one."""

    def __init__(self) -> None:
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "applink-simulated", "approximate_connection_time": 18060},
                "connection_info": {"app_id": defaults.APP_ID},
            }
        )
        self._sockets.append(socket)
        self._connected.set()
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    self._acknowledge(json.loads(message.data))
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self._connected.clear()
        return socket

    def _acknowledge(self, ack: dict[str, Any]) -> None:
        future = self._acks.get(str(ack.get("envelope_id")))
        if future is None or future.done():
            logger.warning("Socket Mode acknowledgement for no pending envelope: %s", ack)
            return
        future.set_result(ack)

    async def wait_connected(
        self,
        *,
        timeout: float,
    ) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError as exc:
            raise WaitTimeout(f"no Socket Mode connection within {timeout}s") from exc

    async def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float,
    ) -> dict[str, Any]:
        """Push an envelope and return the app's acknowledgement (with its ``payload``, if any)."""
        if envelope_type not in ENVELOPE_TYPES:
            raise ValueError(f"envelope type must be one of {ENVELOPE_TYPES}: {envelope_type!r}")
        await self.wait_connected(timeout=timeout)
        envelope_id = str(uuid.uuid4())
        ack = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = ack
        try:
            await self._sockets[-1].send_json(
                {
                    "envelope_id": envelope_id,
                    "type": envelope_type,
                    "payload": payload,
                    # Only interactivity and commands may answer with a payload (e.g. a view).
                    "accepts_response_payload": envelope_type != "events_api",
                    "retry_attempt": retry_attempt,
                    "retry_reason": retry_reason,
                }
            )
            async with asyncio.timeout(timeout):
                acknowledgement: dict[str, Any] = await ack
                return acknowledgement
        except TimeoutError as exc:
            raise WaitTimeout(f"no acknowledgement of {envelope_type} within {timeout}s") from exc
        finally:
            del self._acks[envelope_id]

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
