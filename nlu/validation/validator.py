"""``validate_nlu_data``: every check, over every file, in one report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from nlu.validation.examples import check_counts, check_duplicates, count_examples
from nlu.validation.inputs import (
    check_directories,
    check_paths_argument,
    collect_files,
    file_labels,
)
from nlu.validation.problems import ValidationReport
from nlu.validation.yaml_reading import check_file

DEFAULT_MIN_EXAMPLES: Final = 10


def validate_nlu_data(
    paths: Sequence[Path], *, min_examples: int = DEFAULT_MIN_EXAMPLES
) -> ValidationReport:
    """Check NLU training files and directories (searched recursively, in sorted order).

    Files that do not end in ``.yml``/``.yaml`` are ignored, as Rasa ignores them. An intent
    with fewer than ``min_examples`` distinct examples, counted across all files, is an error;
    ``min_examples=0`` turns that check off.
    """
    check_paths_argument(paths)
    if min_examples < 0:
        raise ValueError(f"min_examples must be 0 or more, not {min_examples}")
    inputs = collect_files(paths)
    checks = [check_file(path) for path in inputs.files]
    problems = list(inputs.problems)
    for check in checks:
        problems.extend(check.problems)
    problems.extend(check_directories(inputs.directories, checks))
    examples = [example for check in checks for example in check.examples]
    problems.extend(check_duplicates(examples, file_labels(inputs.bases, inputs.files)))
    counts = count_examples(checks)
    unreadable = sum(1 for check in checks if not check.readable)
    problems.extend(check_counts(checks, counts, min_examples=min_examples, unreadable=unreadable))
    problems.sort(key=lambda problem: (problem.path, problem.line))
    return ValidationReport(
        problems=tuple(problems),
        intents=MappingProxyType(dict(sorted(counts.items()))),
        files=tuple(inputs.files),
    )
