"""Telegram's flood limits across workers: two limiters on one Redis (two workers) share
each chat's schedule and the bot's; lifted limits never ask Redis; a Redis that cannot be
reached leaves the worker pacing on its own rather than not sending."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram.limiter import SendLimits
from bot.adapters.telegram.shared_limits import SharedSendLimiter

SLOW = SendLimits(per_chat_interval=100.0, overall_per_second=0.01)  # 100 s apart


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[tuple[SharedSendLimiter, SharedSendLimiter]]:
    prefix = f"test-tg-{uuid.uuid4().hex[:8]}"
    first = SharedSendLimiter.from_url(redis_url, limits=SLOW, key_prefix=prefix)
    second = SharedSendLimiter.from_url(redis_url, limits=SLOW, key_prefix=prefix)
    yield first, second
    for worker in (first, second):
        await worker.close()


async def test_two_workers_share_each_chats_slots_and_the_bots(
    workers: tuple[SharedSendLimiter, SharedSendLimiter],
) -> None:
    first, second = workers
    assert await first._slot("chat:1", 100.0) == 0.0
    assert 99.0 < await second._slot("chat:1", 100.0) <= 100.0
    assert await second._slot("chat:2", 100.0) == 0.0
    assert await first._slot("bot", 100.0) == 0.0
    assert 99.0 < await second._slot("bot", 100.0) <= 100.0


async def test_lifted_limits_send_at_once_without_asking_redis() -> None:
    lifted = SendLimits(per_chat_interval=0.0, overall_per_second=math.inf)
    limiter = SharedSendLimiter.from_url("redis://127.0.0.1:1/0", limits=lifted, key_prefix="x")
    await limiter.wait_turn(1)  # nothing listens on port 1: Redis is never asked
    await limiter.close()


async def test_without_redis_a_worker_paces_on_its_own() -> None:
    limits = SendLimits(per_chat_interval=1.0, overall_per_second=30.0)
    limiter = SharedSendLimiter.from_url("redis://127.0.0.1:1/0", limits=limits, key_prefix="x")
    await limiter.wait_turn(1)  # the first send of a chat needs no wait, here or shared
    await limiter.close()
