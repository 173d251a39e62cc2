"""Listener runs still in progress, tracked so that stopping can let them finish.

Bolt acknowledges Slack first and runs each listener in a task of its own; nothing else
waits for those tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


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

    async def wait(self, *, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the tracked runs; how many are still going."""
        running = {task for task in self._tasks if task is not asyncio.current_task()}
        if not running:
            return 0
        _, pending = await asyncio.wait(running, timeout=timeout)
        return len(pending)
