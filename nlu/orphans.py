"""Rasa servers an earlier run left behind: written down when started, stopped at the next start.

Each managed Rasa server gets a file in ``<models folder>/.servers/``: its pid, start time
and command line, and its owner's pid and start time. Stopping it removes the file. A file
whose Rasa still runs but whose owner does not marks an orphan (its owner was killed, and
nothing made Rasa die with it), and the next start of that folder stops it: SIGTERM, then
SIGKILL after a grace period. A process is signalled only while its start time and command
line match the file, so a pid the system has since given to another process is never
touched. The server's auth token never reaches the disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu import identity
from nlu.identity import ProcessIdentity

logger = logging.getLogger(__name__)

_FOLDER = ".servers"
_SECRET = re.compile(r"(--auth-token )\S+")


@dataclass(frozen=True, slots=True)
class ServerRecord:
    """A managed Rasa server, as its owner wrote it down when it started it."""

    pid: int
    started: str
    command: str  # the arguments it was started with, joined by spaces, secrets masked
    owner_pid: int
    owner_started: str

    def describes(self, process: ProcessIdentity | None) -> bool:
        """True if ``process`` is the very process this record was written for."""
        if process is None or process.pid != self.pid or process.started != self.started:
            return False
        running = masked(process.command)
        # The kernel runs a script through its interpreter: "/env/bin/python /env/bin/rasa
        # run ..." for the "/env/bin/rasa run ..." that was started.
        return running == self.command or running.endswith(f" {self.command}")

    def owner_alive(self) -> bool:
        owner = identity.identify(self.owner_pid)
        return owner is not None and owner.started == self.owner_started


def masked(command: str) -> str:
    return _SECRET.sub(r"\1***", command)


class ServerRecords:
    """The records of the Rasa servers started for one models folder."""

    def __init__(self, models_dir: Path) -> None:
        self.directory = models_dir / _FOLDER

    def add(self, *, pid: int, argv: Sequence[str]) -> ServerRecord | None:
        """Write down the server just started as ``pid`` with ``argv``; None if this system
        cannot tell processes apart or the folder takes no record (then nothing stops the
        server if we die without stopping it: a warning says so)."""
        process, owner = identity.identify(pid), identity.current()
        if owner is None:
            logger.warning(
                "this system does not say when a process started: a Rasa server left "
                "running by a crash will not be stopped at the next start"
            )
            return None
        if process is None:  # it has exited already; the supervisor will see to it
            return None
        record = ServerRecord(
            pid=pid,
            started=process.started,
            command=masked(" ".join(argv)),
            owner_pid=owner.pid,
            owner_started=owner.started,
        )
        try:
            self.write(record)
        except OSError as exc:  # a read-only models folder still serves its models
            logger.warning(
                "cannot write down the Rasa server in %s (%s): a Rasa server left running "
                "by a crash will not be stopped at the next start",
                self.directory,
                exc,
            )
            return None
        return record

    def write(self, record: ServerRecord) -> None:
        self.directory.mkdir(exist_ok=True)
        path = self._path(record.pid)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(record)), encoding="utf-8")
        os.replace(temporary, path)  # a reader sees the whole record or none

    def remove(self, pid: int) -> None:
        _unlink(self._path(pid))

    def load(self) -> list[ServerRecord]:
        """Every readable record; an unreadable one is reported and removed."""
        records = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                records.append(_parse(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                logger.warning("removing the unreadable Rasa server record %s (%s)", path, exc)
                _unlink(path)
        return records

    def _path(self, pid: int) -> Path:
        return self.directory / f"{pid}.json"


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # the next start finds the record again and skips it again
        logger.warning("cannot remove the Rasa server record %s (%s)", path, exc)


def _parse(raw: dict[str, object]) -> ServerRecord:
    def text(key: str) -> str:
        value = raw[key]
        if not isinstance(value, str):
            raise TypeError(f"{key} is not a string")
        return value

    def number(key: str) -> int:
        value = raw[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{key} is not a whole number")
        return value

    return ServerRecord(
        pid=number("pid"),
        started=text("started"),
        command=text("command"),
        owner_pid=number("owner_pid"),
        owner_started=text("owner_started"),
    )


async def stop_orphans(records: ServerRecords, *, grace: float, poll: float = 0.1) -> list[int]:
    """Stop each server of the folder whose owner is gone; returns the pids stopped.

    A record whose server has exited is removed; a server whose owner still runs (another
    command serving the same folder) is left alone.
    """
    stopped = []
    for record in records.load():
        if not record.describes(identity.identify(record.pid)):
            records.remove(record.pid)  # it ended: the pid may be another process's now
            continue
        if record.owner_alive():
            logger.info(
                "the Rasa server (pid %s) of the running process %s serves this folder too",
                record.pid,
                record.owner_pid,
            )
            continue
        logger.warning(
            "stopping the Rasa server (pid %s) that an earlier run (pid %s) left behind",
            record.pid,
            record.owner_pid,
        )
        if await _stop(record, grace=grace, poll=poll):
            records.remove(record.pid)
            stopped.append(record.pid)
    return stopped


async def _stop(record: ServerRecord, *, grace: float, poll: float) -> bool:
    """SIGTERM, then SIGKILL; True once the recorded process is gone."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not _signal_if_same(record, signum):
            return True
        if await _gone(record, within=grace, poll=poll):
            return True
    logger.error("the Rasa server (pid %s) outlived SIGKILL; next start tries again", record.pid)
    return False


def _signal_if_same(record: ServerRecord, signum: signal.Signals) -> bool:
    """Send ``signum`` to the recorded process if its pid still names it; False if not."""
    handle = _pidfd(record.pid)
    try:
        if not record.describes(identity.identify(record.pid)):
            return False
        if handle is not None and sys.platform == "linux":
            # Opened before the check, the pidfd names the process checked, even if it
            # exits and its pid is reused in between: the signal can reach no other.
            signal.pidfd_send_signal(handle, signum)
        else:
            os.kill(record.pid, signum)
    except ProcessLookupError:
        return False
    finally:
        if handle is not None:
            os.close(handle)
    return True


def _pidfd(pid: int) -> int | None:
    if sys.platform != "linux":
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:  # gone already, or a kernel before 5.3: the plain kill() path decides
        return None


async def _gone(record: ServerRecord, *, within: float, poll: float) -> bool:
    deadline = time.monotonic() + within
    while record.describes(identity.identify(record.pid)):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll)
    return True
