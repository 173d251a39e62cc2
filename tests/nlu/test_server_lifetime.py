"""A managed server's lifetime with real processes: it dies with its parent, an orphan is
found and stopped at the next start, and a process that only shares a pid is never touched.

The "servers" here are small Python processes: what is under test is the process handling,
not Rasa (tests/faults/test_rasa_orphan.py does the same with the real Rasa). The suite runs
on Linux, where the kernel offers the death signal and ``/proc``; ``ps`` is what other
systems use instead, and it is checked here against ``/proc``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nlu import identity, lifetime
from nlu.identity import ProcessIdentity
from nlu.orphans import ServerRecord, ServerRecords, masked, stop_orphans

REPO = Path(__file__).resolve().parents[2]
GONE_TIMEOUT = 20.0
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)", "--auth-token", "not-on-disk"]
# Ignores SIGTERM, says so, then sleeps: only SIGKILL ends it.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(600)",
]
# Starts a sleeper the way the managed server starts Rasa (its own session, and the death
# signal unless told "--no-death-signal"), writes it down, prints its pid and waits.
OWNER = """
import asyncio, sys
from pathlib import Path
from nlu import lifetime
from nlu.orphans import ServerRecords

async def main():
    argv = sys.argv[2:]
    hook = None if sys.argv[1] == "--no-death-signal" else lifetime.die_with_parent()
    child = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,  # an orphan holding our pipe would block wait()
        start_new_session=True,
        preexec_fn=hook,
    )
    ServerRecords(Path.cwd()).add(pid=child.pid, argv=argv)
    print(child.pid, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A models folder; a server written down in it whose owner is gone does not outlive
    the test, whatever the test found."""
    yield tmp_path
    asyncio.run(stop_orphans(ServerRecords(tmp_path), grace=1.0))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; none outlives it."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def start(
    processes: list[subprocess.Popen[bytes]], argv: list[str], *, stdout: int | None = None
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, start_new_session=True, stdout=stdout)
    processes.append(process)
    return process


def dead_owner(processes: list[subprocess.Popen[bytes]]) -> ProcessIdentity:
    """The identity a process had before it was killed: an owner that is gone."""
    owner = start(processes, [sys.executable, "-c", "import time; time.sleep(600)"])
    described = identity.identify(owner.pid)
    assert described is not None
    owner.kill()
    owner.wait()
    return described


def record_for(
    process: subprocess.Popen[bytes], argv: list[str], owner: ProcessIdentity
) -> ServerRecord:
    described = identity.identify(process.pid)
    assert described is not None
    return ServerRecord(
        pid=process.pid,
        started=described.started,
        command=masked(" ".join(argv)),
        owner_pid=owner.pid,
        owner_started=owner.started,
    )


async def until_gone(pid: int) -> None:
    for _ in range(int(GONE_TIMEOUT / 0.05)):
        if identity.identify(pid) is None:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"process {pid} still runs {GONE_TIMEOUT:.0f} s later")


async def start_owner(folder: Path, *args: str) -> tuple[asyncio.subprocess.Process, int]:
    owner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OWNER,
        *args,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    assert owner.stdout is not None
    line = await asyncio.wait_for(owner.stdout.readline(), GONE_TIMEOUT)
    return owner, int(line)


async def kill_9(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


# --- dying with the parent ----------------------------------------------------------------


async def test_a_child_with_the_death_signal_dies_when_its_parent_is_killed(
    folder: Path,
) -> None:
    owner, child = await start_owner(folder, "--death-signal", *SLEEPER)
    assert identity.identify(child) is not None
    await kill_9(owner)
    await until_gone(child)


def test_the_hook_is_there_exactly_where_the_kernel_offers_the_signal() -> None:
    assert (lifetime.die_with_parent() is not None) == sys.platform.startswith("linux")


# --- finding and stopping orphans ---------------------------------------------------------


async def test_the_next_start_stops_the_orphan_of_a_killed_owner(folder: Path) -> None:
    # Without the death signal (as on macOS) the child outlives its killed owner.
    owner, child = await start_owner(folder, "--no-death-signal", *SLEEPER)
    await kill_9(owner)
    assert identity.identify(child) is not None
    records = ServerRecords(folder)
    [written] = list(records.directory.iterdir())
    assert "not-on-disk" not in written.read_text(encoding="utf-8")  # the token is masked
    [record] = records.load()
    assert record.pid == child
    assert record.describes(identity.identify(child))

    assert await stop_orphans(records, grace=5.0) == [child]

    assert identity.identify(child) is None
    assert records.load() == []
    assert await stop_orphans(records, grace=5.0) == []  # nothing left to stop


async def test_an_orphan_that_ignores_sigterm_gets_sigkill_after_the_grace(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    orphan = start(processes, STUBBORN, stdout=subprocess.PIPE)
    assert orphan.stdout is not None
    assert orphan.stdout.readline() == b"ready\n"
    records = ServerRecords(tmp_path)
    records.write(record_for(orphan, STUBBORN, dead_owner(processes)))

    assert await stop_orphans(records, grace=0.5) == [orphan.pid]

    assert orphan.wait() == -signal.SIGKILL


@pytest.mark.parametrize(
    "differs",
    [
        # The recorded server died and the system gave its pid to this unrelated process:
        # same pid, same command even, but another start time.
        lambda record: dataclasses.replace(record, started="another start"),
        lambda record: dataclasses.replace(record, command="/env/bin/rasa run --enable-api"),
    ],
    ids=["recycled pid", "another command line"],
)
async def test_a_process_that_only_shares_the_pid_is_never_signalled(
    differs: Callable[[ServerRecord], ServerRecord],
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    foreign = start(processes, SLEEPER)
    recorded = record_for(foreign, SLEEPER, dead_owner(processes))
    records = ServerRecords(tmp_path)
    records.write(differs(recorded))

    assert await stop_orphans(records, grace=0.5) == []

    assert foreign.poll() is None
    assert identity.identify(foreign.pid) is not None
    assert records.load() == []  # the record named a process that is gone


async def test_a_server_whose_owner_still_runs_is_left_alone(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    # Another command serving the same folder (``tandem nlu parse`` next to ``tandem run``):
    # its server is not an orphan.
    server = start(processes, SLEEPER)
    records = ServerRecords(tmp_path)
    record = records.add(pid=server.pid, argv=SLEEPER)
    assert record is not None
    assert record.owner_alive()

    assert await stop_orphans(records, grace=0.5) == []

    assert server.poll() is None
    assert records.load() == [record]


async def test_an_unreadable_record_is_removed_and_nothing_is_signalled(tmp_path: Path) -> None:
    records = ServerRecords(tmp_path)
    records.directory.mkdir()
    (records.directory / "1.json").write_text('{"pid": 1, "started": ', encoding="utf-8")
    (records.directory / "2.json").write_text('{"pid": "1", "started": "x"}', encoding="utf-8")

    assert await stop_orphans(records, grace=0.5) == []

    assert list(records.directory.iterdir()) == []


async def test_a_folder_that_takes_no_record_still_lets_the_server_run(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    records = ServerRecords(tmp_path)
    records.directory.write_text("not a folder", encoding="utf-8")
    server = start(processes, SLEEPER)

    assert records.add(pid=server.pid, argv=SLEEPER) is None
    records.remove(server.pid)

    assert await stop_orphans(records, grace=0.5) == []
    assert server.poll() is None
    assert "will not be stopped at the next start" in caplog.text


# --- telling processes apart --------------------------------------------------------------


def test_proc_and_ps_describe_the_same_process(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    process = start(processes, SLEEPER)
    from_proc, from_ps = identity.from_proc(process.pid), identity.from_ps(process.pid)
    assert from_proc is not None
    assert from_ps is not None
    assert from_proc.command == from_ps.command == " ".join(SLEEPER)
    other = start(processes, SLEEPER)
    assert identity.from_ps(other.pid) != from_ps


@pytest.mark.parametrize("read", [identity.from_proc, identity.from_ps])
def test_a_zombie_and_a_reaped_process_are_gone(
    read: Callable[[int], ProcessIdentity | None], processes: list[subprocess.Popen[bytes]]
) -> None:
    process = start(processes, [sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    assert read(process.pid) is None
    process.wait()
    assert read(process.pid) is None
