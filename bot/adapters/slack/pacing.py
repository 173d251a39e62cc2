"""Pacing of Tandem's posts per Slack channel, under Slack's limit of about one message a
second per channel (with short bursts allowed); above it Slack answers 429.

Each channel has a schedule of slots ``interval`` apart (a generic cell rate algorithm:
``burst`` posts may go at once after a quiet spell). A post asks for the next free slot.
A customer's message whose slot is further away than the poster waits is not sent now:
the slot is kept for its thread (the *holder*), and the outbox tries again when it is due,
with whatever the customer wrote meanwhile merged into the same post. So a busy channel
makes one post per thread per turn, instead of falling ever further behind.

A 429 that slipped through (another app, a worker without the shared pace) pushes every
slot of the channel past its ``Retry-After``.

:class:`MemoryPacer` paces one process; :class:`~.shared_pacing.RedisPacer` paces every
worker sharing a Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# A reservation not claimed this long after its slot is forgotten (its holder's worker
# died, or the message went by another path).
STALE_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """``per_second`` posts a second per channel after a burst of ``burst``; a customer's
    message whose slot is at most ``wait_up_to`` seconds away waits for it inline."""

    per_second: float = 1.0
    burst: int = 1
    wait_up_to: float = 0.25

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and math.isfinite(self.per_second)):
            raise ValueError("pacing: expected per_second above 0")
        if self.burst < 1:
            raise ValueError("pacing: expected a burst of 1 or more")
        if self.wait_up_to < 0:
            raise ValueError("pacing: expected wait_up_to of 0 or more")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


class ChannelPacer(Protocol):
    """The schedule of posts per channel (see the module's docstring)."""

    async def acquire(self, channel: str, holder: str, *, wait_up_to: float) -> float:
        """Seconds until ``holder``'s slot in ``channel``. At most ``wait_up_to``: the slot
        is the caller's, who waits that long and posts. More: the slot stays reserved for
        ``holder`` (asking again returns the same one), and the caller comes back then."""
        ...

    async def hold_off(self, channel: str, seconds: float) -> None:
        """Slack said to wait ``seconds`` (a 429): no slot of ``channel`` before then."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Schedule:
    tat: float = 0.0  # the theoretical time of the next post once the burst is spent
    held: dict[str, float] = field(default_factory=dict)  # holder -> reserved slot


def next_slot(tat: float, now: float, policy: PacingPolicy) -> tuple[float, float]:
    """The next free slot and the schedule's new ``tat`` (pure; the Redis script does the
    same arithmetic)."""
    slot = max(now, tat - (policy.burst - 1) * policy.interval)
    return slot, max(tat, slot) + policy.interval


class MemoryPacer:
    """A :class:`ChannelPacer` for one process."""

    def __init__(
        self, policy: PacingPolicy, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._channels: dict[str, _Schedule] = {}

    async def acquire(self, channel: str, holder: str, *, wait_up_to: float) -> float:
        now = self._clock()
        schedule = self._channels.setdefault(channel, _Schedule())
        reserved = schedule.held.get(holder)
        if reserved is not None and reserved >= now - STALE_AFTER:
            if reserved - now <= wait_up_to:
                del schedule.held[holder]
            return max(0.0, reserved - now)
        slot, schedule.tat = next_slot(schedule.tat, now, self._policy)
        if slot - now > wait_up_to:
            schedule.held[holder] = slot
        self._forget_stale(schedule, now)
        return slot - now

    async def hold_off(self, channel: str, seconds: float) -> None:
        schedule = self._channels.setdefault(channel, _Schedule())
        spare = (self._policy.burst - 1) * self._policy.interval
        schedule.tat = max(schedule.tat, self._clock() + seconds + spare)

    async def close(self) -> None:
        return None

    @staticmethod
    def _forget_stale(schedule: _Schedule, now: float) -> None:
        if len(schedule.held) > 1000:
            for holder, slot in list(schedule.held.items()):
                if slot < now - STALE_AFTER:
                    del schedule.held[holder]


class Unpaced:
    """No pacing (``slack.pacing: null``): every post goes at once."""

    async def acquire(self, channel: str, holder: str, *, wait_up_to: float) -> float:
        return 0.0

    async def hold_off(self, channel: str, seconds: float) -> None:
        return None

    async def close(self) -> None:
        return None
