"""The adapter's health: the age of the last getUpdates answer, on an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.health import ComponentHealth
from bot.simulators.telegram import TelegramSimulator
from tests.adapters.test_telegram_adapter import (
    CHAT,
    RecordingHandler,
    polling_adapter,
    webhook_adapter,
)

POLL_TIMEOUT = 10.0


class ManualClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


async def test_polling_health_follows_the_age_of_the_last_answer(
    sim: TelegramSimulator,
) -> None:
    clock = ManualClock()
    handler = RecordingHandler()
    telegram = TelegramAdapter(
        token=sim.token,
        api_url=sim.api_url,
        handler=handler,
        poll_timeout=POLL_TIMEOUT,
        clock=clock,
    )
    before_start = telegram.health()
    await telegram.start()
    try:
        at_start = telegram.health()
        clock.now += 41
        never_answered = telegram.health()
        sim.send_text(CHAT, "an answer to getUpdates")  # the long poll returns with it
        await handler.wait_finished(1)
        answered = telegram.health()
        # The next long poll answers only after POLL_TIMEOUT real seconds: nothing below
        # moves the recorded answer, only the clock.
        clock.now += POLL_TIMEOUT + 30
        still_fresh = telegram.health()
        clock.now += 1
        stale = telegram.health()
        clock.now += 300
        gone = telegram.health()
    finally:
        await telegram.stop()
    stopped = telegram.health()

    assert before_start == ComponentHealth("down", "long polling is not running")
    assert at_start == ComponentHealth(
        "ok", "long polling: no getUpdates answer in the 0 s since start"
    )
    assert never_answered.status == "degraded"
    assert answered == ComponentHealth("ok", "long polling: getUpdates answered 0 s ago")
    assert still_fresh.status == "ok"
    assert stale == ComponentHealth(
        "degraded", "long polling: getUpdates answered 41 s ago (expected within 40 s)"
    )
    assert gone == ComponentHealth("down", "long polling: getUpdates answered 341 s ago")
    assert stopped == ComponentHealth("down", "long polling is not running")


async def test_a_failing_poll_shows_its_last_error(sim: TelegramSimulator) -> None:
    clock = ManualClock()
    sim.fail_next("getUpdates", status=502)
    async with polling_adapter(sim, RecordingHandler(), clock=clock) as telegram:
        await sim.wait_for_call("getUpdates", lambda call: call.status == 502)
        await sim.wait_for_long_poll()  # PTB retried: the error was reported before
        clock.now += 60
        health = telegram.health()

    assert health.status == "degraded"
    assert health.detail.endswith("; last error: Bad Gateway (expected within 40 s)")


async def test_webhook_health_names_the_url(sim: TelegramSimulator) -> None:
    async with webhook_adapter(sim, RecordingHandler()) as (telegram, url):
        running = telegram.health()

    assert running == ComponentHealth("ok", f"webhook at {url}")
    assert telegram.health().status == "down"
