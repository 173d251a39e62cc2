"""Work still in progress, tracked so that stopping can let it finish: listener runs, and
the notices to agents sent after Slack had its answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

logger = logging.getLogger(__name__)


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count the current task in while the block runs."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to wait for
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    def spawn(self, work: Coroutine[Any, Any, None], *, what: str) -> None:
        """Run ``work`` in a task of its own (counted in until it ends); ``what`` names it
        in the log if it fails."""
        task = asyncio.create_task(work, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s failed", task.get_name(), exc_info=task.exception())

    async def wait(self, *, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the tracked runs; how many are still going."""
        running = {task for task in self._tasks if task is not asyncio.current_task()}
        if not running:
            return 0
        _, pending = await asyncio.wait(running, timeout=timeout)
        return len(pending)
