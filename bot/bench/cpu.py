"""CPU time of processes, from ``/proc/<pid>/stat`` (Linux): user plus system time of every
thread, so the load generator's own work is never counted in the process it measures."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# After the ")" that ends the command name: state is field 3 of stat(5), utime 14, stime 15.
_UTIME, _STIME = 14 - 3, 15 - 3


class CpuUnreadable(OSError):
    """A process's CPU time cannot be read (gone, or not Linux)."""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used so far (all its threads)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii")
    except OSError as exc:
        raise CpuUnreadable(f"cannot read the CPU time of process {pid}: {exc}") from exc
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS_PER_SECOND


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running."""
    found: list[int] = []
    try:
        for task in (_PROC / str(pid) / "task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        return []  # gone meanwhile: it has no children any more
    return found


def descendants(pid: int) -> list[int]:
    """Children, their children, and so on."""
    found, frontier = [], children(pid)
    while frontier:
        found += frontier
        frontier = [grandchild for child in frontier for grandchild in children(child)]
    return found


@dataclass(frozen=True, slots=True)
class CpuMeter:
    """The CPU seconds of a fixed set of processes, summed (read :meth:`seconds` before and
    after a window; the difference is what they spent in it)."""

    pids: tuple[int, ...]

    @classmethod
    def of(cls, pids: Iterable[int]) -> CpuMeter:
        return cls(pids=tuple(pids))

    def seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)
