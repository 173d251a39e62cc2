"""Work that one worker at a time does (the redelivery scan, retention): a named lease.

With several workers on one Redis, a worker does the work only while it holds the lease;
each round renews it, and when its holder dies the lease runs out and the next worker to
ask takes it over (:class:`~handoff.state.redis_lease.RedisLease`). One process alone
always holds it (:class:`SoleLease`).

The lease only spares the others the work: what the work changes is still guarded where it
happens (a conversation's lock, a message marked delivered once).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol

from handoff.errors import HandoffError

P = ParamSpec("P")

logger = logging.getLogger(__name__)

REDELIVERY = "redelivery"
RETENTION = "retention"


class Lease(Protocol):
    async def take(self, name: str, *, ttl: float) -> bool:
        """Hold ``name`` for ``ttl`` seconds from now: True if this worker holds it (taken,
        or renewed), False if another does."""
        ...

    async def give_up(self, name: str) -> None:
        """Let another worker take ``name`` at once (this one is stopping)."""
        ...

    async def close(self) -> None: ...


class SoleLease:
    """The only worker: it always holds every lease."""

    async def take(self, name: str, *, ttl: float) -> bool:
        return True

    async def give_up(self, name: str) -> None:
        return None

    async def close(self) -> None:
        return None


def leased(
    work: Callable[P, Awaitable[int]], *, lease: Lease, name: str, ttl: float
) -> Callable[P, Awaitable[int]]:
    """``work``, done only while this worker holds ``name`` (0 otherwise)."""
    held = False

    async def run(*args: P.args, **kwargs: P.kwargs) -> int:
        nonlocal held
        holds = await lease.take(name, ttl=ttl)
        if holds != held:
            logger.info("%s the %s work", "this worker takes" if holds else "another does", name)
            held = holds
        return await work(*args, **kwargs) if holds else 0

    return run


async def give_up_all(lease: Lease) -> None:
    """This worker is stopping: the others take over its periodic work at once."""
    for name in (REDELIVERY, RETENTION):
        try:
            await lease.give_up(name)
        except HandoffError as exc:
            logger.warning("could not give up the %s lease (it runs out by itself): %s", name, exc)
