"""The intake journal in a local SQLite file (the :class:`~handoff.journal.Journal` port).

Local on purpose: it must take events while PostgreSQL or Redis are away, so it depends on
nothing but the disk. Each running process holds one journal file, under an exclusive lock:
several workers sharing a data folder get one file each (``intake-0.db``, ``intake-1.db``,
...), and a worker that starts takes over the file, and the unhandled events, of one that
died. Writes are synchronous (``synchronous = FULL``): an event is on disk before the
platform is told it arrived.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import json
import logging
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from handoff.errors import IntakeUnavailable
from handoff.journal import EventKind, JournalEntry

logger = logging.getLogger(__name__)

T = TypeVar("T")
_Write = tuple[str, tuple[Any, ...]]  # a statement and its arguments
MAX_FILES = 64  # more workers than this on one data folder is a mistake, not a plan
# A handled event is deleted with the next write, or this many seconds after it was handled
# when none comes: one commit and one hop to the journal's thread per event, not two. A
# crash in between replays it, which its handling recognises as a repeat, as it does after
# a crash between handling an event and deleting it.
FORGET_WITHIN = 0.05

_SENT = """
CREATE TABLE IF NOT EXISTS sent (outbox_id INTEGER PRIMARY KEY, sent_id TEXT NOT NULL)
"""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS intake (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lane TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    failed TEXT,
    ticket INTEGER
)
"""


class SqliteJournal:
    """Open with :meth:`open`, :meth:`close` at shutdown."""

    def __init__(self, *, connection: sqlite3.Connection, lock: IO[str], path: Path) -> None:
        self._connection = connection
        self._lock = lock
        self.path = path
        # One thread owns the connection: calls run in order, off the event loop.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        # Group commit: writes asked for while one transaction is on its way to the disk
        # wait for it and then go together, in one transaction and one fsync. An fsync per
        # write (two per event) was an eighth of a customer turn's CPU (py-spy).
        self._queued: list[tuple[_Write, asyncio.Future[int]]] = []
        self._committing: asyncio.Task[None] | None = None
        # Events handled, deleted with the next commit (see FORGET_WITHIN).
        self._forgotten: list[int] = []
        self._forget_timer: asyncio.TimerHandle | None = None
        self._closed = False

    @classmethod
    def open(cls, folder: Path) -> SqliteJournal:
        """The first journal file in ``folder`` that no running process holds."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for number in range(MAX_FILES):
                path = folder / f"intake-{number}.db"
                lock = _try_lock(path.with_suffix(".lock"))
                if lock is not None:
                    return cls(connection=_connect(path), lock=lock, path=path)
        except (OSError, sqlite3.Error) as exc:
            raise IntakeUnavailable(f"cannot open the intake journal in {folder}: {exc}") from exc
        raise IntakeUnavailable(f"all {MAX_FILES} intake journals in {folder} are in use")

    async def close(self) -> None:
        await self._settle()
        self._closed = True  # from now on a write is refused, not queued for a dead thread
        await self._run(self._connection.close)
        self._thread.shutdown(wait=True)
        self._lock.close()  # releases the file lock

    async def append(
        self,
        *,
        lane: str,
        kind: EventKind,
        payload: dict[str, Any],
        at: datetime,
        ticket: int | None = None,
    ) -> JournalEntry:
        # ASCII: a lone surrogate (a Slack text may hold one) is escaped, not refused.
        text = json.dumps(payload, separators=(",", ":"))
        moment = at.astimezone(UTC)

        entry_id = await self._write(
            "INSERT INTO intake (lane, kind, payload, received_at, ticket) VALUES (?, ?, ?, ?, ?)",
            (lane, kind.value, text, moment.isoformat(), ticket),
        )
        return JournalEntry(
            id=entry_id, lane=lane, kind=kind, payload=payload, received_at=moment, ticket=ticket
        )

    async def done(self, entry_id: int) -> None:
        if self._closed:  # handled as the service stopped: replayed, and seen as a repeat
            logger.warning(
                "intake journal closed: entry %s is handled again at the next start", entry_id
            )
            return
        self._forgotten.append(entry_id)
        if self._committing is None and self._forget_timer is None:
            loop = asyncio.get_running_loop()
            self._forget_timer = loop.call_later(FORGET_WITHIN, self._commit_soon)

    async def failed(self, entry_id: int, *, reason: str) -> None:
        await self._write("UPDATE intake SET failed = ? WHERE id = ?", (reason, entry_id))

    async def pending(self) -> list[JournalEntry]:
        await self._settle()

        def select() -> list[tuple[Any, ...]]:
            return self._connection.execute(
                "SELECT id, lane, kind, payload, received_at, ticket FROM intake"
                " WHERE failed IS NULL ORDER BY id"
            ).fetchall()

        entries = []
        for entry_id, lane, kind, payload, received_at, ticket in await self._run(select):
            try:
                entries.append(
                    JournalEntry(
                        id=entry_id,
                        lane=lane,
                        kind=EventKind(kind),
                        payload=json.loads(payload),
                        received_at=datetime.fromisoformat(received_at),
                        ticket=ticket,
                    )
                )
            except ValueError as exc:  # damaged: keep it for people, don't stop the rest
                logger.error("intake journal entry %s cannot be read: %s", entry_id, exc)
                await self.failed(entry_id, reason=f"unreadable: {exc}")
        return entries

    # --- the outbox's memo (handoff.outbox.SentMemo): sent, not yet recorded -------------

    async def remember(self, outbox_id: int, sent_id: str) -> None:
        await self._write(
            "INSERT OR REPLACE INTO sent (outbox_id, sent_id) VALUES (?, ?)", (outbox_id, sent_id)
        )

    async def recall(self, outbox_id: int) -> str | None:
        def select() -> str | None:
            row = self._connection.execute(
                "SELECT sent_id FROM sent WHERE outbox_id = ?", (outbox_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        found: str | None = await self._run(select)
        return found

    async def forget(self, outbox_id: int) -> None:
        await self._write("DELETE FROM sent WHERE outbox_id = ?", (outbox_id,))

    async def failed_count(self) -> int:
        def count() -> int:
            row = self._connection.execute(
                "SELECT count(*) FROM intake WHERE failed IS NOT NULL"
            ).fetchone()
            return int(row[0])

        counted: int = await self._run(count)
        return counted

    async def _write(self, statement: str, arguments: tuple[Any, ...]) -> int:
        """Run one write, committed with the others queued meanwhile; its row id."""
        if self._closed:
            raise IntakeUnavailable(f"intake journal {self.path} is closed (the service stops)")
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queued.append(((statement, arguments), done))
        self._commit_soon()
        return await done

    def _commit_soon(self) -> None:
        if self._forget_timer is not None:
            self._forget_timer.cancel()
            self._forget_timer = None
        if self._committing is None:
            self._committing = asyncio.create_task(self._commit_queued())

    async def _settle(self) -> None:
        """Until every write asked for, and every deletion, is committed."""
        while self._forgotten or self._committing is not None:
            self._commit_soon()
            task = self._committing
            if task is not None:
                await asyncio.shield(task)

    async def _commit_queued(self) -> None:
        try:
            while self._queued or self._forgotten:
                group, self._queued = self._queued, []
                forgotten, self._forgotten = self._forgotten, []
                try:
                    row_ids = await self._run(functools.partial(self._commit, group, forgotten))
                except Exception as exc:  # the disk, or a bug: every writer waiting learns it
                    if forgotten:  # handled already; at worst they are handled again
                        logger.error("could not delete handled journal entries: %s", exc)
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for (_, done), row_id in zip(group, row_ids, strict=True):
                    if not done.done():  # its caller may have been cancelled
                        done.set_result(row_id)
        finally:
            self._committing = None

    def _commit(
        self, group: list[tuple[_Write, asyncio.Future[int]]], forgotten: list[int]
    ) -> list[int]:
        with self._connection:
            if forgotten:
                self._connection.executemany(
                    "DELETE FROM intake WHERE id = ?", [(entry_id,) for entry_id in forgotten]
                )
            return [
                self._connection.execute(statement, arguments).lastrowid or 0
                for (statement, arguments), _ in group
            ]

    async def _run(self, call: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, call)
        except sqlite3.Error as exc:
            raise IntakeUnavailable(f"intake journal {self.path}: {exc}") from exc


def _try_lock(path: Path) -> IO[str] | None:
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(_SCHEMA)
    columns = {row[1] for row in connection.execute("PRAGMA table_info(intake)")}
    if "ticket" not in columns:  # a journal written by a release before tickets
        connection.execute("ALTER TABLE intake ADD COLUMN ticket INTEGER")
    connection.execute(_SENT)
    return connection
