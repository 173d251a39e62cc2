"""Updates Tandem skipped, kept raw: nothing a customer sent disappears unseen.

An update is skipped when it cannot be decoded (fetching it again would never help) or
when the handler could not take it in after Telegram already counts it as received. Each
becomes one JSON line in ``telegram-quarantine.jsonl``::

    {"update_id": 42, "at": "2026-03-01T12:00:00+00:00", "error": "...", "update": {...}}

The file is appended to and never read by Tandem; an operator reads or replays it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

QUARANTINE_FILE = "telegram-quarantine.jsonl"


class Quarantine:
    """Appends skipped updates to :data:`QUARANTINE_FILE` in ``directory`` (created when
    needed); with no directory, nothing is written and :meth:`record` says so."""

    def __init__(
        self,
        *,
        directory: Path | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = None if directory is None else directory / QUARANTINE_FILE
        self._clock = clock
        self._lock = threading.Lock()  # appends run in worker threads; keep lines whole

    async def skip(
        self, update_id: int | None, raw: object, why: str, *, level: int = logging.WARNING
    ) -> None:
        """Keep ``raw`` and say so in one log line (no stack: the input is at fault)."""
        outcome = await self.record(update_id, raw, why)
        logger.log(level, "skipped Telegram update %s: %s; %s", update_id, why, outcome)

    async def record(self, update_id: int | None, raw: object, error: str) -> str:
        """Keep ``raw`` with its ``error``; returns what became of it, for the log line."""
        if self.path is None:
            return "not kept: no quarantine directory is set"
        entry = {"update_id": update_id, "at": self._clock().isoformat(), "error": error}
        # ensure_ascii: a lone surrogate stays an escape instead of failing to encode.
        line = json.dumps({**entry, "update": raw}, ensure_ascii=True, default=repr)
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            return f"NOT kept: cannot write {self.path}: {exc}"
        return f"kept raw in {self.path}"

    def _append(self, line: str) -> None:
        assert self.path is not None  # record() returned before otherwise
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="ascii") as file:
                file.write(line + "\n")
                file.flush()
                # Skipped updates are rare, and after this Telegram will not send them again.
                os.fsync(file.fileno())
