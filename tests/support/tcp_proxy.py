"""A TCP proxy the test owns, in front of a real server (PostgreSQL): it can cut every
connection and refuse new ones for a while, as a network partition or a server restart
does, and then let connections through again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024


@dataclass(slots=True, eq=False)  # eq=False: kept in a set, by identity
class _Link:
    """One client connection and its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        # abort(), not close(): the peers see a reset, as when a server goes away.
        self.client.transport.abort()
        self.upstream.transport.abort()


class TcpProxy:
    """``async with TcpProxy(upstream_port=5432) as proxy:`` then connect to
    ``127.0.0.1:proxy.port``; :meth:`cut` and :meth:`restore` in between."""

    def __init__(
        self, *, upstream_port: int, upstream_host: str = "127.0.0.1", host: str = "127.0.0.1"
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._host = host
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._port = 0  # 0 until first started: then the same port every time
        self.connections = 0  # accepted so far, to show a cut had something to cut

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def cut_off(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        """Listen (again, on the same port after a cut)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, reuse_address=True
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        """Reset every open connection and stop listening: new ones are refused."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        links, self._links = list(self._links), set()
        for link in links:
            link.abort()
        await asyncio.gather(*(p for link in links for p in link.pumps), return_exceptions=True)
        logger.info("proxy %s: cut %d connection(s)", self._port, len(links))

    async def restore(self) -> None:
        await self.start()
        logger.info("proxy %s: restored", self._port)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just before a cut
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        link = _Link(client=writer, upstream=up_writer)
        link.pumps = [
            asyncio.create_task(_pump(reader, up_writer)),
            asyncio.create_task(_pump(up_reader, writer)),
        ]
        self._links.add(link)
        await asyncio.gather(*link.pumps, return_exceptions=True)
        self._links.discard(link)
        link.abort()


async def _pump(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy until either side closes or is reset."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await source.read(_CHUNK):
            target.write(chunk)
            await target.drain()
    # A clean end on one side ends the other too, as a real connection would.
    target.transport.abort()
