"""Slack misbehaves while a customer writes to an agent in quick succession: a 429 storm
that outlasts the client's retries, server errors, and answers that come only after the
client gave up. Every message reaches the thread once, in the order it was written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.adapters.slack.delivery import RetryPolicy
from tests.faults.harness import FaultTimes, FaultWorld, scenario_limit
from tests.faults.ledger import Counts, Route
from tests.faults.scenarios import assert_nothing_lost, with_an_agent

pytestmark = [pytest.mark.rasa, pytest.mark.faults, scenario_limit(120)]

CLIENT = RetryPolicy()  # what the service's Slack client does by default
BURST = 6  # messages the customer sends in quick succession


@pytest.fixture
def fault_times() -> FaultTimes:
    # Redelivery slower than the client's own retries (as the default, 30 s, is): a message
    # whose retries ran out is not picked up while its successors are being posted.
    return FaultTimes(redelivery_interval=10.0)


async def burst_to_agents(world: FaultWorld, fault: Callable[[], None], *, settle: float) -> Counts:
    person = await with_an_agent(world)
    fault()
    for number in range(BURST):
        world.customer_writes(person, f"Detail {number} of my problem", Route.TO_AGENTS)
    return await world.settle(timeout=settle)


async def test_a_429_storm(embedded: FaultWorld) -> None:
    # More 429s than one post may retry: the first message runs out of retries.
    storm = CLIENT.max_retries + 3
    counts = await burst_to_agents(
        embedded,
        lambda: embedded.slack.fail_next(
            "chat.postMessage", status=429, retry_after=1, times=storm
        ),
        settle=45,
    )
    assert_nothing_lost(counts)


async def test_server_errors(embedded: FaultWorld) -> None:
    counts = await burst_to_agents(
        embedded,
        lambda: embedded.slack.fail_next(
            "chat.postMessage", status=503, times=CLIENT.max_retries + 1
        ),
        settle=50,
    )
    assert_nothing_lost(counts)


async def test_answers_after_the_client_gave_up(embedded: FaultWorld) -> None:
    # The post takes effect at once; the answer comes a second after the client's time-out.
    late = CLIENT.timeout + 1
    counts = await burst_to_agents(
        embedded,
        lambda: embedded.slack.slow_next("chat.postMessage", delay=late),
        settle=late + 15,
    )
    assert_nothing_lost(counts)
