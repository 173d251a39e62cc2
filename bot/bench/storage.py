"""The networked backend's storage, borrowed for one run: a fresh PostgreSQL database
(created, then dropped with its connections) and a Redis key prefix of the run's own
(its keys removed afterwards), so the benchmark never touches anyone's data."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.bench.errors import BenchError


def run_name() -> str:
    """A name for this run's database and Redis prefix."""
    return f"tandem_bench_{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, name: str) -> AsyncIterator[str]:
    """The URL of a new database ``name`` on the server of ``server_url``, dropped when the
    block exits."""
    try:
        server = make_url(server_url).set(drivername="postgresql+asyncpg")
    except SQLAlchemyError as exc:
        raise BenchError(f"--postgres: not a database URL ({exc})") from exc
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    where = server.render_as_string(hide_password=True)
    try:
        await _admin(admin, f'CREATE DATABASE "{name}"', where)
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', where)
    finally:
        await admin.dispose()


async def _admin(engine: AsyncEngine, statement: str, where: str) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    except (OSError, SQLAlchemyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        verb = " ".join(statement.split()[:2])
        raise BenchError(
            f"PostgreSQL at {where} refused {verb} ({first}); "
            "--postgres names a server where the benchmark may create a database"
        ) from exc


@contextlib.asynccontextmanager
async def redis_prefix(url: str, prefix: str) -> AsyncIterator[str]:
    """``prefix`` for the service's keys on the Redis at ``url`` (checked first); every key
    under it is removed when the block exits."""
    client = aioredis.from_url(url)
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            where = urlsplit(url)  # never the password
            raise BenchError(
                f"Redis at {where.hostname}:{where.port or 6379} does not answer ({exc}); "
                "--redis names the server"
            ) from exc
        yield prefix
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
