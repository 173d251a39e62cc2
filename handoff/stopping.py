"""Periodic work that stops between its rounds, not in the middle of one.

A loop (the redelivery scan, retention, the SLA ladder, a lease's look) is given a stop
signal (an :class:`asyncio.Event`): it checks it between rounds, and its wait between
rounds ends as soon as the signal is set. Cancelling such a loop at the service's stop
would interrupt a round mid-transaction (SQLAlchemy then reports the cancelled rollback
with a traceback); :func:`stop_between_rounds` asks it to stop, lets the current round
finish for a bounded time, and cancels only a round that overruns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger(__name__)

STOP_WITHIN = 10.0  # seconds a round may take to finish once the service stops


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds``, or less once ``stop`` is set; True when the loop is to stop."""
    if not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    return stop.is_set()


async def stop_between_rounds(
    task: asyncio.Task[None], stop: asyncio.Event, *, within: float = STOP_WITHIN
) -> None:
    """Set ``stop`` and wait for ``task`` to end, at most ``within`` seconds; then cancel
    it (a round stuck that long is not going to commit anything worth waiting for)."""
    stop.set()
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        logger.warning("%s did not stop within %.0f s; cancelling it", task.get_name(), within)
        task.cancel()
    [ended] = await asyncio.gather(task, return_exceptions=True)
    if isinstance(ended, Exception):  # a loop that died is reported; the stop goes on
        logger.error("%s had failed", task.get_name(), exc_info=ended)
