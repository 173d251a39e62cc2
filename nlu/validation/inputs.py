"""The paths a caller gives: the YAML files they amount to, and how messages name them.

A given directory is searched as Rasa would search it; one with no NLU data in it is an error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from nlu.validation.file_check import FileCheck
from nlu.validation.problems import Problem, error_at, warning_at

# Rasa reads only these suffixes, and compares them case-sensitively.
_YAML_SUFFIXES: Final = frozenset({".yml", ".yaml"})
_NOT_YAML_MESSAGE: Final = "ignored: Rasa reads only files ending in .yml or .yaml"


def check_paths_argument(paths: Sequence[Path]) -> None:
    # A single str is a Sequence too, and would be read one character at a time.
    if isinstance(paths, str | bytes | os.PathLike):
        raise TypeError("paths must be a sequence of paths, for example [Path('nlu/data')]")
    if not paths:
        raise ValueError("paths must name at least one file or directory")


@dataclass(slots=True)
class Inputs:
    """What the given paths amount to."""

    files: list[Path] = field(default_factory=list)  # YAML files to check, each once, in order
    problems: list[Problem] = field(default_factory=list)
    directories: dict[Path, list[Path]] = field(default_factory=dict)  # given dir -> its files
    bases: list[Path] = field(default_factory=list)  # given dirs, and the folders of given files


def collect_files(paths: Sequence[Path]) -> Inputs:
    inputs = Inputs()
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            inputs.problems.append(error_at(path, 0, "missing-path", "no such file or directory"))
            continue
        except OSError as exc:  # no permission, a symlink loop, ...
            inputs.problems.append(error_at(path, 0, "unreadable", f"cannot be read: {exc}"))
            continue
        if stat.S_ISDIR(mode):
            found = _yaml_files_under(path, inputs.problems)
            inputs.directories[path] = found
            inputs.bases.append(path)
        elif stat.S_ISREG(mode) and path.suffix in _YAML_SUFFIXES:
            found = [path]
            inputs.bases.append(path.parent)
        else:
            inputs.problems.append(warning_at(path, 0, "not-yaml", _NOT_YAML_MESSAGE))
            continue
        for file in found:
            if _identity(file) not in seen:
                seen.add(_identity(file))
                inputs.files.append(file)
    return inputs


def _identity(path: Path) -> Path:
    """The same file reached by two routes (a folder and a file in it) gets checked once."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop; stat already said so
        return path.absolute()


def _yaml_files_under(directory: Path, problems: list[Problem]) -> list[Path]:
    found: list[Path] = []

    def report(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else directory
        problems.append(error_at(where, 0, "unreadable", f"cannot be read: {exc.strerror}"))

    for root, dirnames, filenames in os.walk(directory, onerror=report):
        # Hidden entries are editor swap files, lock files and VCS folders, never training data.
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in filenames:
            path = Path(root) / name
            if name.startswith(".") or not path.is_file():  # a FIFO would block the read
                continue
            if path.suffix in _YAML_SUFFIXES:
                found.append(path)
            elif path.suffix.lower() in _YAML_SUFFIXES:
                # ``billing.YML`` looks like data, but Rasa would skip it without a word.
                problems.append(warning_at(path, 0, "not-yaml", _NOT_YAML_MESSAGE))
    return sorted(found)


def file_labels(bases: Sequence[Path], files: Sequence[Path]) -> dict[Path, str]:
    """How messages name files: relative to the folder the given paths share.

    The CLI passes absolute paths; "billing.yml:12" reads better than the whole path.
    """
    try:
        common = Path(os.path.commonpath([_identity(base) for base in bases]))
    except ValueError:  # nothing given exists, or nothing in common (different drives)
        return {}
    labels: dict[Path, str] = {}
    for file in files:
        try:
            labels[file] = str(_identity(file).relative_to(common))
        except ValueError:  # a symlink out of the tree: its own path says it best
            continue
    return labels


def check_directories(
    directories: Mapping[Path, list[Path]], checks: Sequence[FileCheck]
) -> list[Problem]:
    by_identity = {_identity(check.path): check for check in checks}
    problems: list[Problem] = []
    for directory, files in directories.items():
        found = [by_identity[_identity(file)] for file in files]
        if any(check.has_nlu_data for check in found):
            continue
        if not all(check.readable for check in found):
            continue  # a file we could not parse may hold the data; its own error says so
        if files:
            message = "no NLU training data: no file here has items under 'nlu:'"
        else:
            message = "no NLU training data: no .yml or .yaml files here"
        problems.append(error_at(directory, 0, "no-nlu-data", message))
    return problems
