"""Running Rasa's command line in its own environment, streaming its output as it comes."""

from __future__ import annotations

import asyncio
import os
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu import lifetime

# Rasa and TensorFlow print pages of deprecation warnings and try to phone home; neither
# helps a trainer, and this machine may be offline.
RASA_ENVIRONMENT = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
    "PYTHONUNBUFFERED": "1",
}

TAIL_LINES = 40
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rasa_subprocess_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without Python settings of this (3.11) interpreter."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    environment.update(RASA_ENVIRONMENT)
    environment.update(extra or {})
    return environment


@dataclass(frozen=True, slots=True)
class Completed:
    """How a command ended, with the last lines it printed (for error messages)."""

    returncode: int
    tail: tuple[str, ...]


async def run_streaming(
    argv: Sequence[str | Path],
    *,
    on_line: Callable[[str], None],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """Run a command, passing each line of its merged stdout/stderr to ``on_line``."""
    process = await asyncio.create_subprocess_exec(
        *[str(arg) for arg in argv],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        cwd=cwd,
        env=dict(env) if env is not None else rasa_subprocess_environment(),
        # A training run outlives nobody: killed with its parent (kill -9 of tandem nlu train).
        preexec_fn=lifetime.die_with_parent(),
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    assert process.stdout is not None
    try:
        async for raw in process.stdout:
            line = strip_ansi(raw.decode("utf-8", errors="replace").rstrip())
            if line:
                tail.append(line)
                on_line(line)
        returncode = await process.wait()
    except BaseException:
        # Cancelled (Ctrl-C) or failed while reading: never leave the child running.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return Completed(returncode=returncode, tail=tuple(tail))


def strip_ansi(text: str) -> str:
    """Rasa colours its messages; logs and error lines want plain text."""
    return _ANSI.sub("", text)
