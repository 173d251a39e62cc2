"""What the validator reports: one :class:`Problem` per finding, gathered in a report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nlu.errors import DataValidationError


class Severity(StrEnum):
    """How bad a problem is: errors stop training, warnings are worth a look."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in the training data.

    ``line`` is 1-based; it is 0 when the problem concerns a whole path (a directory, a file
    that cannot be read) rather than a line in it.
    """

    path: Path
    line: int
    severity: Severity
    code: str
    message: str

    def format(self, root: Path | None = None) -> str:
        """``nlu/data/billing.yml:12: error: ... [code]``, the path relative to ``root``."""
        shown = _display_path(self.path, root)
        where = f"{shown}:{self.line}" if self.line > 0 else str(shown)
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything :func:`~nlu.validation.validate_nlu_data` found, sorted by file and line."""

    problems: tuple[Problem, ...]
    # Intent -> number of distinct examples (duplicates, after normalization, count once).
    intents: Mapping[str, int]
    files: tuple[Path, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """True when there are no errors; warnings do not block training."""
        return not self.errors

    def raise_for_errors(self, *, root: Path | None = None) -> None:
        """Raise :class:`~nlu.errors.DataValidationError` listing the errors, if there are any."""
        errors = self.errors
        if errors:
            listing = "\n".join(problem.format(root) for problem in errors)
            raise DataValidationError(
                f"the NLU training data has {len(errors)} error(s):\n{listing}"
            )


def error_at(path: Path, line: int, code: str, message: str) -> Problem:
    return Problem(path, line, Severity.ERROR, code, message)


def warning_at(path: Path, line: int, code: str, message: str) -> Problem:
    return Problem(path, line, Severity.WARNING, code, message)


def _display_path(path: Path, root: Path | None) -> Path:
    if root is None:
        return path
    for candidate, base in ((path, root), (path.resolve(), root.resolve())):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return path
