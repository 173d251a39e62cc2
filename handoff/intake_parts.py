"""What the intake (:mod:`handoff.intake`) is given and what it tells apart: who handles
its events, how long it waits between tries, which failures pass."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from handoff.errors import StateError, StorageUnavailable
from handoff.model import Inbound
from handoff.ports import AgentDesk, AgentEventHandler, CustomerChannel

# Failures that pass: the lane waits and tries again for as long as they last.
TRANSIENT = (StorageUnavailable, StateError)


class Halted(asyncio.CancelledError):
    """Handling was cut short by :meth:`Intake.stop`: not retried, not given up on; the
    event stays in the journal for the next start (a cancelled lock's release can fail
    with a storage error, which would otherwise be retried)."""


class CustomerHandler(Protocol):
    """The conversation engine, as the intake sees it."""

    async def handle(self, inbound: Inbound) -> None: ...

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        """Handling ``inbound`` failed for good: hand the conversation to a person; False
        if that failed too."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds between tries while something is unavailable: doubling, capped."""

    first: float = 0.25
    longest: float = 5.0
    attempts_for_errors: int = 3  # other errors: tries before giving up

    def delay(self, failures: int) -> float:
        return float(min(self.longest, self.first * 2 ** max(failures - 1, 0)))


@dataclass(frozen=True, slots=True)
class Handlers:
    """Who handles what the intake took in, and how it reaches people meanwhile."""

    customers: CustomerHandler
    agents: AgentEventHandler
    channel: CustomerChannel
    desk: AgentDesk
