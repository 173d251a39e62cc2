"""Long polling with two workers on one Redis: one polls, the other stands by (healthy);
when the poller dies (it stops renewing its lease, without giving it up) the other takes
over within the lease plus a third of it, and the customer's next message reaches it."""

from __future__ import annotations

import asyncio
import uuid

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.polling_owner import PollingOwner
from bot.simulators.telegram import TelegramSimulator
from handoff.state.redis_lease import RedisLease
from tests.adapters.test_telegram_adapter import CHAT, RecordingHandler, polling_adapter

LEASE = 1.0  # seconds: the takeover is due within 4/3 of it


async def test_one_worker_polls_and_another_takes_over_when_it_dies(redis_url: str) -> None:
    prefix = f"test-poll-{uuid.uuid4().hex[:8]}"
    first, second = RecordingHandler(), RecordingHandler()
    async with TelegramSimulator() as sim:
        options = {"polling_lease_ttl": LEASE}
        lease_a = RedisLease.from_url(redis_url, key_prefix=prefix)
        lease_b = RedisLease.from_url(redis_url, key_prefix=prefix)
        async with (
            polling_adapter(sim, first, polling_lease=lease_a, **options) as a,
            polling_adapter(sim, second, polling_lease=lease_b, **options) as b,
        ):
            owner_a, owner_b = a.polling_owner, b.polling_owner
            assert owner_a is not None
            assert owner_b is not None
            assert owner_a.polling
            assert not owner_b.polling
            assert b.health().status == "ok"
            assert "standing by" in b.health().detail

            sim.send_text(CHAT, "before")
            (seen,) = await first.wait_finished(1)
            assert seen.text == "before"

            await crash(a)
            changed = owner_b.changed
            async with asyncio.timeout(LEASE * 4 / 3 + 5):  # the stated takeover time
                while not polls(owner_b):
                    await changed.wait()
                    changed = owner_b.changed
            sim.send_text(CHAT, "after")
            (taken,) = await second.wait_finished(1)
            assert taken.text == "after"
            assert [m.text for m in first.finished] == ["before"]  # nothing twice


def polls(owner: PollingOwner) -> bool:
    return owner.polling  # read afresh (an assert above narrowed the attribute for mypy)


async def crash(adapter: TelegramAdapter) -> None:
    """The worker stops polling and renewing at once, and never gives the lease up."""
    owner = adapter.polling_owner
    assert owner is not None
    await owner.end(give_up=False)
