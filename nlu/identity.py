"""Which process a pid names now: its start time and command line, so that a pid the system
has since given to another process is told apart from the one we started.

Linux reads ``/proc`` (the start time in clock ticks since boot, with the boot's id, so a
reboot cannot make two processes look alike); other POSIX systems ask ``ps``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_EXITED = ("Z", "X")  # zombie, dead
_KERNEL_THREAD = 0x00200000  # PF_KTHREAD in the flags of /proc/<pid>/stat
# Popen returns once the child has started its exec (vfork), a moment before the kernel
# has set up its new command line: /proc shows it running with none (seen in 1 of 3 runs
# of the lifetime tests at load 4-5). That moment is waited out, up to this long.
_EXEC_WAIT = 0.5


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """A running process as the system describes it."""

    pid: int
    started: str  # opaque: equal only for the same process
    command: str  # its arguments joined by single spaces


def identify(pid: int) -> ProcessIdentity | None:
    """The process that has ``pid`` now, or None: none has it, it has exited (a zombie is
    dead), or this system can tell us nothing."""
    if pid <= 0:
        return None
    if _PROC.joinpath("self", "stat").is_file():
        return from_proc(pid)
    return from_ps(pid)


def current() -> ProcessIdentity | None:
    return identify(os.getpid())


def from_proc(pid: int) -> ProcessIdentity | None:
    """Linux: what ``/proc/<pid>`` says."""
    deadline = time.monotonic() + _EXEC_WAIT
    while True:
        try:
            stat = (_PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
            argv = (_PROC / str(pid) / "cmdline").read_bytes()
        except OSError:  # no such process, or it went while we looked
            return None
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after
        # the last ")". Field 22 of proc(5), the start time, is the 20th after it; the
        # flags, field 9, the 7th.
        fields = stat.rpartition(")")[2].split()
        if len(fields) < 20 or fields[0] in _EXITED:
            return None
        if argv:
            return ProcessIdentity(
                pid=pid,
                started=f"{_boot_id()}:{fields[19]}",
                command=" ".join(
                    word.decode("utf-8", errors="replace")
                    for word in argv.rstrip(b"\0").split(b"\0")
                ),
            )
        # No command line: a kernel thread never has one, and an exiting process has
        # released it before it turns zombie (neither is a process we started); a process
        # in the middle of its exec has none yet, for a moment.
        if int(fields[6]) & _KERNEL_THREAD or time.monotonic() >= deadline:
            return None
        time.sleep(0.001)


@functools.cache
def _boot_id() -> str:
    try:
        return (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return "?"


def from_ps(pid: int) -> ProcessIdentity | None:
    """Any POSIX system: what ``ps`` says (slower: a process per question)."""
    ps = shutil.which("ps")
    if ps is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - ps from PATH, a pid we were given
            [ps, "-ww", "-p", str(pid), "-o", "stat=", "-o", "lstart=", "-o", "command="],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},  # lstart's day and month names, unlocalised
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # "S    Mon Dec  1 19:50:00 2026 /path/to/python -m ...": lstart is five words.
    words = done.stdout.strip().split(None, 6)
    if done.returncode != 0 or len(words) < 7 or words[0].startswith(_EXITED):
        return None
    return ProcessIdentity(pid=pid, started=" ".join(words[1:6]), command=words[6])
