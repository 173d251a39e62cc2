"""The separate Python 3.8-3.10 environment Rasa 3.6 runs in.

Rasa pins old versions of libraries this service uses, so it gets its own virtual
environment, built from the pinned constraints shipped in this package.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nlu.errors import RasaEnvironmentError
from nlu.process import rasa_subprocess_environment, run_streaming

RASA_VERSION = "3.6.21"
CONSTRAINTS_FILE = Path(__file__).with_name("rasa-constraints.txt")
SUPPORTED_PYTHONS = ((3, 10), (3, 9), (3, 8))
_READY_MARKER = ".tandem-ready"
_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


@dataclass(frozen=True, slots=True)
class RasaEnvironment:
    """A virtual environment with Rasa installed (or to be installed) at ``path``."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def rasa(self) -> Path:
        return self.path / "bin" / "rasa"

    def is_ready(self, constraints: Path = CONSTRAINTS_FILE) -> bool:
        """True when a completed install from exactly these constraints is present."""
        marker = self.path / _READY_MARKER
        return (
            self.rasa.is_file()
            and marker.is_file()
            and marker.read_text(encoding="utf-8").strip() == constraints_digest(constraints)
        )

    def require_ready(self) -> None:
        if not self.is_ready():
            raise RasaEnvironmentError(
                f"the Rasa environment at {self.path} is not set up: run `tandem nlu setup`"
            )


def constraints_digest(constraints: Path = CONSTRAINTS_FILE) -> str:
    content = f"rasa=={RASA_VERSION}\n".encode() + constraints.read_bytes()
    return hashlib.sha256(content).hexdigest()[:12]


def default_environment_path(constraints: Path = CONSTRAINTS_FILE) -> Path:
    """Under the user's cache, keyed by the pins: every checkout with the same pins shares it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tandem" / f"rasa-{RASA_VERSION}-{constraints_digest(constraints)}"


def find_python(explicit: str | None = None) -> Path:
    """An interpreter Rasa 3.6 supports: ``explicit``, else on PATH, else among pyenv's."""
    if explicit:
        found = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if found is None:
            raise RasaEnvironmentError(f"--python {explicit}: no such interpreter")
        version = _probe(Path(found))
        if version not in {f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS}:
            raise RasaEnvironmentError(
                f"--python {explicit} is Python {version or '(unknown)'}; "
                "Rasa 3.6 needs Python 3.8, 3.9 or 3.10"
            )
        return Path(found)
    for candidate in _candidates():
        if _version_of(candidate) is not None:
            return candidate
    raise RasaEnvironmentError(
        "no Python 3.10 (or 3.9/3.8) found, which Rasa 3.6 needs: install one "
        "(e.g. `apt-get install python3.10`, `pyenv install 3.10`, `uv python install 3.10`) "
        "or pass its path with --python"
    )


def _candidates() -> Iterable[Path]:
    for major, minor in SUPPORTED_PYTHONS:
        on_path = shutil.which(f"python{major}.{minor}")
        if on_path:
            yield Path(on_path)
    # A pyenv shim on PATH answers only when that version is selected; the interpreters
    # themselves sit under pyenv's root.
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for major, minor in SUPPORTED_PYTHONS:
        yield from sorted(
            pyenv_root.glob(f"versions/{major}.{minor}.*/bin/python{major}.{minor}"), reverse=True
        )


def _version_of(interpreter: Path) -> str | None:
    """The interpreter's major.minor if it runs and is supported, else None."""
    version = _probe(interpreter)
    supported = {f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS}
    return version if version in supported else None


def _probe(interpreter: Path) -> str | None:
    """The interpreter's major.minor, or None if it does not run."""
    try:
        result = subprocess.run(  # noqa: S603 - runs a Python interpreter we located ourselves
            [str(interpreter), "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = result.stdout.strip()
    return version if result.returncode == 0 and re.fullmatch(r"\d+\.\d+", version) else None


async def setup_environment(
    environment: RasaEnvironment,
    *,
    python: Path,
    on_line: Callable[[str], None],
    constraints: Path = CONSTRAINTS_FILE,
) -> bool:
    """Build the environment unless it is ready. Returns True if anything was installed."""
    if environment.is_ready(constraints):
        return False
    # A half-built environment (interrupted install) is rebuilt from scratch.
    if environment.path.exists():
        shutil.rmtree(environment.path)
    environment.path.parent.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, list[str | Path]]] = [
        ("create the virtual environment", [python, "-m", "venv", environment.path]),
        # Without wheel, pip falls back to deprecated `setup.py install` for a few of
        # Rasa's older dependencies.
        ("install wheel", [environment.python, "-m", "pip", "install", "wheel"]),
        (
            f"install rasa=={RASA_VERSION}",
            [
                environment.python,
                "-m",
                "pip",
                "install",
                "--progress-bar",
                "off",
                f"rasa=={RASA_VERSION}",
                "--constraint",
                constraints,
            ],
        ),
    ]
    env = rasa_subprocess_environment({"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    for description, argv in steps:
        on_line(f"--- {description}")
        completed = await run_streaming(argv, on_line=on_line, env=env)
        if completed.returncode != 0:
            raise RasaEnvironmentError(
                f"could not {description} (exit {completed.returncode}); last output:\n"
                + "\n".join(completed.tail[-15:])
            )
    (environment.path / _READY_MARKER).write_text(
        constraints_digest(constraints) + "\n", encoding="utf-8"
    )
    return True
