"""The separate Rasa environment: finding a Python Rasa supports, readiness, set-up, paths.

Uses the real interpreters on this machine: the test interpreter (3.11, which Rasa does not
support) and pyenv's 3.10, which must be installed (``pyenv install 3.10``).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from nlu.environment import (
    CONSTRAINTS_FILE,
    RASA_VERSION,
    RasaEnvironment,
    constraints_digest,
    default_environment_path,
    find_python,
    setup_environment,
)
from nlu.errors import RasaEnvironmentError

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


@pytest.fixture
def python310() -> Path:
    """pyenv's newest Python 3.10, the way ``find_python`` ranks them."""
    found = sorted(PYENV_ROOT.glob("versions/3.10.*/bin/python3.10"), reverse=True)
    if not found:
        pytest.fail(
            f"no Python 3.10 under {PYENV_ROOT}/versions; these tests need one "
            "(`pyenv install 3.10`)",
            pytrace=False,
        )
    return found[0]


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH and PYENV_ROOT both point at empty folders: no interpreter to be found."""
    path_dir, pyenv_dir = tmp_path / "path", tmp_path / "pyenv"
    path_dir.mkdir()
    pyenv_dir.mkdir()
    monkeypatch.setenv("PATH", str(path_dir))
    monkeypatch.setenv("PYENV_ROOT", str(pyenv_dir))
    return path_dir


def script(path: Path, body: str) -> Path:
    """A small executable shell script (a stand-in interpreter)."""
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def ready_environment(path: Path, constraints: Path = CONSTRAINTS_FILE) -> RasaEnvironment:
    environment = RasaEnvironment(path)
    environment.rasa.parent.mkdir(parents=True)
    environment.rasa.write_text("#!/bin/sh\n", encoding="utf-8")
    (path / ".tandem-ready").write_text(constraints_digest(constraints) + "\n", encoding="utf-8")
    return environment


# --- find_python ------------------------------------------------------------------------


def test_explicit_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "python3.10"

    with pytest.raises(RasaEnvironmentError) as caught:
        find_python(str(missing))

    assert str(caught.value) == f"--python {missing}: no such interpreter"


def test_explicit_unsupported_python() -> None:
    with pytest.raises(RasaEnvironmentError) as caught:
        find_python(sys.executable)

    message = str(caught.value)
    assert sys.executable in message
    assert f"is Python {sys.version_info.major}.{sys.version_info.minor};" in message
    assert "3.8, 3.9 or 3.10" in message


def test_explicit_program_that_is_not_python(tmp_path: Path) -> None:
    fake = script(tmp_path / "python", "echo 'not a python' >&2; exit 1")

    with pytest.raises(RasaEnvironmentError, match=r"is Python \(unknown\)"):
        find_python(str(fake))


def test_explicit_supported_python(python310: Path) -> None:
    assert find_python(str(python310)) == python310


def test_explicit_name_is_looked_up_on_path(bare_path: Path, python310: Path) -> None:
    (bare_path / "python3.10").symlink_to(python310)

    assert find_python("python3.10") == bare_path / "python3.10"


def test_nothing_found_says_what_to_install(bare_path: Path) -> None:
    with pytest.raises(RasaEnvironmentError) as caught:
        find_python()

    message = str(caught.value)
    assert "no Python 3.10" in message
    assert "pyenv install 3.10" in message
    assert "--python" in message


def test_found_among_pyenvs_versions(
    bare_path: Path, python310: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_ROOT))

    assert find_python() == python310


def test_found_on_path(bare_path: Path, python310: Path) -> None:
    (bare_path / "python3.10").symlink_to(python310)

    assert find_python() == bare_path / "python3.10"


def test_a_candidate_that_is_not_really_supported_is_passed_over(
    bare_path: Path, python310: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script(bare_path / "python3.10", "echo 3.11")  # misnamed, or a pyenv shim of another version
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_ROOT))

    assert find_python() == python310


# --- readiness --------------------------------------------------------------------------


def test_empty_folder_is_not_ready(tmp_path: Path) -> None:
    assert not RasaEnvironment(tmp_path).is_ready()
    assert not RasaEnvironment(tmp_path / "missing").is_ready()


def test_marker_and_rasa_make_it_ready(tmp_path: Path) -> None:
    assert ready_environment(tmp_path / "env").is_ready()


def test_marker_without_rasa_is_not_ready(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "env")
    environment.rasa.unlink()

    assert not environment.is_ready()


def test_rasa_without_marker_is_not_ready(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "env")
    (environment.path / ".tandem-ready").unlink()

    assert not environment.is_ready()


def test_marker_of_other_pins_is_not_ready(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "env")
    (environment.path / ".tandem-ready").write_text("0123456789ab\n", encoding="utf-8")

    assert not environment.is_ready()


def test_readiness_is_judged_against_the_given_constraints(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==1.23.5\n", encoding="utf-8")
    environment = ready_environment(tmp_path / "env", constraints)

    assert environment.is_ready(constraints)
    assert not environment.is_ready()


def test_constraints_digest_follows_the_file(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==1.23.5\n", encoding="utf-8")
    first = constraints_digest(constraints)
    constraints.write_text("numpy==1.23.4\n", encoding="utf-8")

    assert len(first) == 12
    assert int(first, 16) >= 0
    assert constraints_digest(constraints) != first
    assert constraints_digest(constraints) == constraints_digest(constraints)


def test_require_ready(tmp_path: Path) -> None:
    missing = RasaEnvironment(tmp_path / "env")

    with pytest.raises(RasaEnvironmentError) as caught:
        missing.require_ready()

    assert "tandem nlu setup" in str(caught.value)
    assert str(missing.path) in str(caught.value)
    ready_environment(missing.path).require_ready()  # does not raise once ready


# --- setup_environment ------------------------------------------------------------------


async def test_setup_of_a_ready_environment_runs_nothing(tmp_path: Path) -> None:
    environment = ready_environment(tmp_path / "env")
    before = sorted(environment.path.rglob("*"))
    output: list[str] = []

    installed = await setup_environment(
        environment, python=tmp_path / "no-such-python3.10", on_line=output.append
    )

    assert installed is False
    assert output == []
    assert sorted(environment.path.rglob("*")) == before


async def test_failed_setup_reports_the_step_and_its_output(tmp_path: Path) -> None:
    environment = RasaEnvironment(tmp_path / "env")
    environment.path.mkdir()
    (environment.path / "half-built").write_text("from an interrupted install")
    python = script(
        tmp_path / "python3.10",
        "echo 'Error: Command ensurepip returned non-zero exit status 1.'; exit 1",
    )
    output: list[str] = []

    with pytest.raises(RasaEnvironmentError) as caught:
        await setup_environment(environment, python=python, on_line=output.append)

    assert str(caught.value) == (
        "could not create the virtual environment (exit 1); last output:\n"
        "Error: Command ensurepip returned non-zero exit status 1."
    )
    assert output == [
        "--- create the virtual environment",
        "Error: Command ensurepip returned non-zero exit status 1.",
    ]
    assert not (environment.path / "half-built").exists()
    assert not environment.is_ready()


# --- default_environment_path -----------------------------------------------------------


def test_default_path_is_under_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    assert default_environment_path() == (
        tmp_path / "cache" / "tandem" / f"rasa-{RASA_VERSION}-{constraints_digest()}"
    )


def test_default_path_without_xdg_is_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert default_environment_path() == (
        tmp_path / ".cache" / "tandem" / f"rasa-{RASA_VERSION}-{constraints_digest()}"
    )


def test_default_path_changes_with_the_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==1.23.5\n", encoding="utf-8")

    assert default_environment_path(constraints).name == (
        f"rasa-{RASA_VERSION}-{constraints_digest(constraints)}"
    )
    assert default_environment_path(constraints) != default_environment_path()
