"""The service's own HTTP endpoints: ``/healthz`` (each component, for people), ``/readyz``
(for load balancers: 200 or 503), and what others add (``/metrics``; Slack's
``/slack/events`` and the Telegram webhook from their adapters)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.errors import HttpServerError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Each component's state in words ("ok", "degraded: ...", "down: ..."); ``healthy`` is
    False when one is down (503), ``degraded`` when one works only in part (still 200)."""

    healthy: bool
    checks: dict[str, str]
    degraded: bool = False

    @property
    def status(self) -> str:
        if not self.healthy:
            return "failing"
        return "degraded" if self.degraded else "ok"


class HttpServer:
    """An aiohttp server on ``host:port``; port 0 picks a free port (see :attr:`port`)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        health: Callable[[], Awaitable[HealthReport]],
        ready: Callable[[], Awaitable[HealthReport]] | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._health = health
        self._ready = ready or health
        self.app = web.Application()
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """For the channel adapters' endpoints; call before :meth:`start`."""
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise HttpServerError(
                f"cannot listen on {self._host}:{self._requested_port} "
                f"(TANDEM_HTTP_HOST/TANDEM_HTTP_PORT): {exc.strerror}"
            ) from exc
        self.port = int(self._runner.addresses[0][1])
        logger.info("HTTP endpoints on http://%s:%s (/healthz)", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health()
        return web.json_response(
            {"status": report.status, "checks": report.checks},
            status=200 if report.healthy else 503,
        )

    async def _readyz(self, request: web.Request) -> web.Response:
        report = await self._ready()
        return web.json_response(
            {"ready": report.healthy, "checks": report.checks},
            status=200 if report.healthy else 503,
        )
