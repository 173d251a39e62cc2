"""A stand-in for the operator's load balancer in front of several ``tandem run`` workers:
round-robin over their ports on 127.0.0.1, for the multi-worker tests and ``tandem bench
load --workers``."""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web

# Hop-by-hop: the balancer's own connection to the worker sets them.
_NOT_FORWARDED = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class Balancer:
    """Round-robin over the workers' ports; a worker that does not answer is skipped, as a
    load balancer's health check would. ``ports`` may change while it runs (a worker taken
    out, or added).

    ``async with Balancer() as balancer:`` then :attr:`port` (its own, on 127.0.0.1) and
    :attr:`url`.
    """

    def __init__(self) -> None:
        self.ports: list[int] = []
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Balancer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        # Loopback only: never a proxy from the environment.
        self._session = aiohttp.ClientSession(trust_env=False)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None, "start the balancer first"
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        for _ in range(len(self.ports)):
            port = self.ports[next(self._turn) % len(self.ports)]
            try:
                async with self._session.request(
                    request.method,
                    f"http://127.0.0.1:{port}{request.path_qs}",
                    data=body,
                    headers=headers,
                ) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientConnectionError:
                continue
        return web.Response(status=503)
