"""Redis clients for ``redis://``, ``rediss://`` and ``unix://`` URLs, as ``Redis.from_url``
makes them, but without a task per command.

redis-py bounds each command's send by its ``socket_timeout`` (5 s unless the URL says
otherwise) with ``asyncio.wait_for``, which on Python 3.11 runs the send as a task of its
own: about a third of the client's CPU per command (a Lua call: 150-200 µs -> 100-135 µs,
measured alone). Here the send is bounded by ``asyncio.timeout`` in the calling task, as
redis-py bounds the reads; what happens on a time-out or a socket error is redis-py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _SendInTask(AbstractConnection):
    """redis-py's ``send_packed_command`` (8.1) with ``asyncio.timeout`` for ``wait_for``."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        try:
            if isinstance(command, str):
                command = command.encode()
            if isinstance(command, bytes):
                command = [command]
            async with asyncio.timeout(self.socket_timeout or None):
                self._writer.writelines(command)  # type: ignore[union-attr]
                await self._writer.drain()  # type: ignore[union-attr]
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            number, message = ("UNKNOWN", exc.args[0]) if len(exc.args) == 1 else exc.args[:2]
            raise RedisConnectionError(
                f"Error {number} while writing to socket. {message}."
            ) from exc
        except BaseException:
            # A send cut short leaves the connection unusable: as redis-py does.
            await self.disconnect(nowait=True)
            raise


class _TcpConnection(_SendInTask, Connection):
    pass


class _SslConnection(_SendInTask, SSLConnection):
    pass


class _UnixConnection(_SendInTask, UnixDomainSocketConnection):
    pass


_OURS: dict[type[Any], type[AbstractConnection]] = {
    Connection: _TcpConnection,
    SSLConnection: _SslConnection,
    UnixDomainSocketConnection: _UnixConnection,
}


def redis_from_url(url: str) -> Redis:
    """``Redis.from_url(url)`` with the connections above (a connection class of another
    kind is kept as it is)."""
    client = Redis.from_url(url)
    pool = client.connection_pool
    pool.connection_class = _OURS.get(pool.connection_class, pool.connection_class)
    return client
