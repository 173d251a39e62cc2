"""A long command run beside the rest of the test session, for a test that reads its verdict.

`tandem policy train --check` keeps both cores busy for minutes (MiniLM encodes 44,130
texts), and most of the suite leaves them idle while it waits for servers, simulators and
clocks. Started when the session starts, at the lowest CPU priority (nice 19: it gets only
the CPU the other tests leave, so their timing is not at its mercy), it is done or nearly
done when its test, late in the run, asks for the result. The command is the one a
developer runs; only when it runs changes.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

LOWEST_PRIORITY = 19


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    output: str  # stdout and stderr, interleaved


class BackgroundCommand:
    """``argv`` started now at the lowest priority, its output in the file ``log``."""

    def __init__(self, argv: list[str], *, log: Path, cwd: Path) -> None:
        self._log = log
        with log.open("wb") as output:
            self._process = subprocess.Popen(
                ["nice", "-n", str(LOWEST_PRIORITY), *argv],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
            )

    def result(self) -> Finished:
        """Waits for the command to end (the test's timeout bounds the wait)."""
        returncode = self._process.wait()
        return Finished(returncode, self._log.read_text(encoding="utf-8", errors="replace"))

    def stop(self) -> None:
        """Ends the command if it still runs (its test failed early or was not reached)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
