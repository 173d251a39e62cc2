"""A long command run beside the rest of the test session, for a test that reads its verdict.

`tandem policy train --check` keeps both cores busy for minutes (MiniLM encodes 44,130
texts), and most of the suite leaves them idle while it waits for servers, simulators and
clocks. Started when the session starts, at the lowest CPU priority (nice 19: it gets only
the CPU the other tests leave, so their timing is not at its mercy), it is done or nearly
done when its test, late in the run, asks for the result. The command is the one a
developer runs; only when it runs changes.

With pytest-xdist (``make test`` runs two workers) every worker collects every test, so
each would start the command: the first to create the command's folder starts it, the
others find it there. The command runs in a session of its own and writes its output and
exit code to files in that folder, so whichever worker runs the test reads the verdict, and
a worker that finishes first does not take the command with it. The process that ends the
test run stops it if it still runs (:func:`stop_all`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LOWEST_PRIORITY = 19
POLL_EVERY = 0.5  # seconds between looks for the exit code
_OUTPUT, _RETURNCODE, _PID = "output.log", "returncode", "pid"
# Runs the command with its output in the folder ($0), then writes its exit code there in
# one rename, so a reader never sees half of it.
_WRAPPER = (
    f'"$@" > "$0/{_OUTPUT}" 2>&1; echo $? > "$0/{_RETURNCODE}.part";'
    f' mv "$0/{_RETURNCODE}.part" "$0/{_RETURNCODE}"'
)


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    output: str  # stdout and stderr, interleaved


class BackgroundCommand:
    """``argv`` run once per test run, at the lowest priority, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @classmethod
    def start_once(cls, argv: list[str], *, folder: Path, cwd: Path) -> BackgroundCommand:
        """Starts ``argv`` unless a process of this test run already did (``folder`` is
        the run's, shared by its workers)."""
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            return cls(folder)  # another worker started it
        process = subprocess.Popen(
            ["sh", "-c", _WRAPPER, str(folder), "nice", "-n", str(LOWEST_PRIORITY), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,  # outlives the worker that started it; stopped as a group
        )
        (folder / _PID).write_text(str(process.pid), encoding="utf-8")
        return cls(folder)

    def result(self) -> Finished:
        """Waits for the command to end (the test's timeout bounds the wait)."""
        returncode = self._folder / _RETURNCODE
        while not returncode.exists():
            time.sleep(POLL_EVERY)
        output = (self._folder / _OUTPUT).read_text(encoding="utf-8", errors="replace")
        return Finished(int(returncode.read_text(encoding="utf-8")), output)

    def stop(self) -> None:
        """Ends the command if it still runs (its test failed early or was not reached)."""
        if (self._folder / _RETURNCODE).exists():
            return
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.killpg(int((self._folder / _PID).read_text(encoding="utf-8")), signal.SIGKILL)


def stop_all(run_folder: Path) -> None:
    """Stops every command started in ``run_folder`` (each in a folder of its own)."""
    for pid_file in run_folder.glob(f"*/{_PID}"):
        BackgroundCommand(pid_file.parent).stop()
