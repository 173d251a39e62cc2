"""PTB's HTTP transport port (:class:`telegram.request.BaseRequest`) on aiohttp.

PTB ships one on httpx; the same sendMessage cost about twice the CPU through it (tandem
bench load, py-spy: httpcore's connection pool and anyio streams per request). Failures
become PTB's own errors here, as its transport does: a time-out is :class:`TimedOut`,
anything else on the way :class:`NetworkError`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's own defaults (HTTPXRequest), in seconds.
DEFAULT_TIMEOUT = 5.0
DEFAULT_POOL_TIMEOUT = 1.0


class AiohttpRequest(BaseRequest):
    """``connection_pool_size`` connections at most; PTB's builder gives the bot 256 and
    getUpdates 1."""

    __slots__ = ("_connections", "_read_timeout", "_session", "_timeouts")

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        self._connections = connection_pool_size
        self._read_timeout = read_timeout
        self._timeouts = (connect_timeout, pool_timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(  # noqa: PLR0917 - PTB's signature, positional and all
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # Any: PTB types these with its private ODVInput alias.
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,  # aiohttp has none: part of total
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _timeout(self, read: Any, connect: Any, pool: Any) -> aiohttp.ClientTimeout:
        default_connect, default_pool = self._timeouts
        read = self._read_timeout if _is_default(read) else read
        connect = default_connect if _is_default(connect) else connect
        pool = default_pool if _is_default(pool) else pool
        return aiohttp.ClientTimeout(
            total=None,
            # aiohttp counts the wait for a pooled connection into the connect time.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )


class _Form(aiohttp.BytesPayload):
    """A form already URL-encoded."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body, content_type="application/x-www-form-urlencoded")


def _is_default(value: Any) -> bool:
    """Whether PTB left the time-out to the transport (its DefaultValue, type private)."""
    return isinstance(value, type(BaseRequest.DEFAULT_NONE))


def _body(request_data: RequestData | None) -> Any:
    """Form fields, as PTB's transport sends them; multipart when there are files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        # Encoded here: handing aiohttp the dict (its FormData) cost as much as the rest of
        # the request (py-spy).
        return _Form(urlencode(fields).encode())
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
