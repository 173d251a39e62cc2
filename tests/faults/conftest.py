"""Fixtures of the fault suite: one real Rasa for the session; per test, the whole service on
the embedded default, or on a fresh PostgreSQL database (through a proxy the test can cut)
and a redis-server of the test's own (which it can stop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import make_url

from tests.faults.harness import (
    SERVICE_LIMIT,
    FaultTimes,
    FaultWorld,
    scenario_settings,
    write_config,
)
from tests.support.postgres import fresh_database
from tests.support.rasa_server import RasaEndpoint, rasa_server
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def rasa_endpoint(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RasaEndpoint]:
    """A Rasa server on the shipped model, shared by every service of the fault suite."""
    log = tmp_path_factory.mktemp("fault-rasa") / "rasa.log"
    with rasa_server(shipped_model, log=log) as endpoint:
        yield endpoint


@pytest.fixture
def fault_times() -> FaultTimes:
    """The scenario's times; a module overrides this fixture to change them."""
    return FaultTimes()


@pytest_asyncio.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    async with RedisServer(log=tmp_path / "redis.log") as server:
        yield server


@pytest_asyncio.fixture
async def postgres_proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    """A proxy in front of the test PostgreSQL server."""
    server = make_url(postgres_url)
    async with TcpProxy(
        upstream_host=server.host or "127.0.0.1", upstream_port=server.port or 5432
    ) as proxy:
        yield proxy


@pytest_asyncio.fixture
async def proxied_database_url(postgres_url: str, postgres_proxy: TcpProxy) -> AsyncIterator[str]:
    """A fresh database, reached through the proxy; dropped after the test."""
    async with fresh_database(postgres_url, prefix="tandem_fault") as url:
        through = url.set(host="127.0.0.1", port=postgres_proxy.port)
        yield through.render_as_string(hide_password=False)


async def _running(world: FaultWorld) -> AsyncIterator[FaultWorld]:
    # The scenarios' time limits leave set-up out (harness.scenario_limit): this bounds it.
    async with asyncio.timeout(SERVICE_LIMIT):
        await world.start()
    try:
        yield world
    finally:
        async with asyncio.timeout(SERVICE_LIMIT):
            await world.stop()


@pytest_asyncio.fixture
async def embedded(
    rasa_endpoint: RasaEndpoint, fault_times: FaultTimes, tmp_path: Path
) -> AsyncIterator[FaultWorld]:
    """The service on its embedded default: an SQLite file and in-process live state."""
    settings = scenario_settings(write_config(tmp_path, fault_times), rasa_endpoint)
    async for world in _running(FaultWorld(settings, times=fault_times)):
        yield world


@pytest_asyncio.fixture
async def networked(
    rasa_endpoint: RasaEndpoint,
    fault_times: FaultTimes,
    tmp_path: Path,
    proxied_database_url: str,
    redis_server: RedisServer,
) -> AsyncIterator[FaultWorld]:
    """The service for several workers: PostgreSQL (through the proxy) and Redis."""
    settings = scenario_settings(write_config(tmp_path, fault_times), rasa_endpoint)
    world = FaultWorld(
        settings,
        times=fault_times,
        database_url=proxied_database_url,
        redis_url=redis_server.url,
    )
    async for running in _running(world):
        yield running
