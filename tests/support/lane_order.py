"""A hand-written, in-process :class:`~handoff.lane_order.LaneOrder`: what Redis keeps
for several workers, shared here by several intakes in one test."""

from __future__ import annotations

from handoff.errors import StateError
from handoff.lane_order import Turn


class MemoryLaneOrder:
    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self.held: dict[str, set[int]] = {}
        self.away = False  # raises like a Redis that is down, while True
        self.holders_alive = True  # the workers holding tickets run (their heartbeat is on)
        self.started = 0

    def _check(self) -> None:
        if self.away:
            raise StateError("Redis failed while taking a ticket: connection refused")

    async def start(self) -> None:
        self.started += 1

    async def ticket(self, lane: str) -> int | None:
        self._check()
        number = self._next[lane] = self._next.get(lane, 0) + 1
        self.held.setdefault(lane, set()).add(number)
        return number

    async def first(self, lane: str, ticket: int) -> Turn:
        self._check()
        held = self.held.get(lane, set())
        if ticket not in held or min(held) == ticket:
            return Turn.FIRST
        return Turn.BEHIND_ALIVE if self.holders_alive else Turn.BEHIND_GONE

    async def skip(self, lane: str, ticket: int) -> int:
        self._check()
        earlier = {n for n in self.held.get(lane, set()) if n < ticket}
        self.held[lane] = self.held.get(lane, set()) - earlier
        return len(earlier)

    async def done(self, lane: str, tickets: list[int]) -> None:
        self._check()
        self.held[lane] = self.held.get(lane, set()) - set(tickets)

    async def close(self) -> None:
        return None
