"""What checking one file finds: its problems, and the examples the cross-file rules need."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nlu.validation.annotations import strip_annotations
from nlu.validation.problems import Problem, error_at, warning_at


@dataclass(frozen=True, slots=True)
class Location:
    """A line in a training data file."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Example:
    """One training example of an intent, as written (entity annotations included)."""

    intent: str
    text: str
    location: Location

    @property
    def plain_text(self) -> str:
        """The text a user would type: annotations replaced by the text they annotate."""
        return strip_annotations(self.text)


@dataclass(slots=True)
class FileCheck:
    """What checking one file found: its problems, and what the cross-file checks need."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    declarations: dict[str, int] = field(default_factory=dict)  # intent -> first line here
    has_nlu_data: bool = False
    readable: bool = True  # False when the bytes could not be decoded or the YAML parsed

    def error(self, line: int, code: str, message: str) -> None:
        self.problems.append(error_at(self.path, line, code, message))

    def warning(self, line: int, code: str, message: str) -> None:
        self.problems.append(warning_at(self.path, line, code, message))

    def declare(self, intent: str, line: int) -> None:
        self.declarations.setdefault(intent, line)
