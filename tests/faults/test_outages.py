"""Redis and PostgreSQL go away for a few seconds in the middle of conversations (some with
the bot, some with agents who are replying), and the service is restarted in the middle of
one: nothing is lost, duplicated or reordered, and customers who waited longer than
``conversation.outage_notice_after`` were told that their message is kept."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultTimes, FaultWorld, scenario_limit
from tests.faults.scenarios import (
    Outage,
    assert_nothing_lost,
    assert_waiting_customers_told,
    through_outage,
)
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.rasa, pytest.mark.faults, scenario_limit(120)]


@pytest.fixture
def fault_times() -> FaultTimes:
    # A notice after 2 s: the first messages of a 4 s outage wait longer than that.
    return FaultTimes(notice_after=2.0)


def redis_outage(redis: RedisServer) -> Outage:
    return Outage(name="Redis", begin=redis.stop, end=redis.start)


def postgres_outage(proxy: TcpProxy) -> Outage:
    return Outage(name="PostgreSQL", begin=proxy.cut, end=proxy.restore)


async def test_redis_stopped_mid_conversation(
    networked: FaultWorld, redis_server: RedisServer
) -> None:
    run = await through_outage(networked, redis_outage(redis_server))
    assert_nothing_lost(run.counts)
    assert_waiting_customers_told(run.counts)


async def test_postgres_cut_mid_conversation(
    networked: FaultWorld, postgres_proxy: TcpProxy
) -> None:
    run = await through_outage(networked, postgres_outage(postgres_proxy))
    assert postgres_proxy.connections > 0  # the service did use the proxy
    assert_nothing_lost(run.counts)
    assert_waiting_customers_told(run.counts)


async def test_a_restart_in_the_middle_of_a_postgres_outage(
    networked: FaultWorld, postgres_proxy: TcpProxy
) -> None:
    run = await through_outage(networked, postgres_outage(postgres_proxy), restart=True)
    # It comes up in the middle of the outage (journaling what arrives) rather than
    # failing until the database is back.
    assert run.start_failures == ()
    assert_nothing_lost(run.counts)


async def test_a_restart_in_the_middle_of_a_redis_outage(
    networked: FaultWorld, redis_server: RedisServer
) -> None:
    run = await through_outage(networked, redis_outage(redis_server), restart=True)
    assert run.start_failures == ()
    assert_nothing_lost(run.counts)
