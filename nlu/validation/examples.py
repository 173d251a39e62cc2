"""Examples across all files: reading them back, and the rules no single file can decide.

An intent's examples may be spread over several files, and two files may teach the same
sentence to different intents; these checks see every file at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from nlu.validation.annotations import normalize_example
from nlu.validation.file_check import Example, FileCheck, Location
from nlu.validation.inputs import check_paths_argument, collect_files
from nlu.validation.problems import Problem, error_at, warning_at
from nlu.validation.yaml_reading import check_file


def load_examples(paths: Sequence[Path]) -> dict[str, list[Example]]:
    """Every intent's examples as written, in file and line order, with where they are.

    Reads what can be read and skips the rest silently: run
    :func:`~nlu.validation.validate_nlu_data` first to learn what was skipped.
    """
    check_paths_argument(paths)
    by_intent: dict[str, list[Example]] = {}
    for path in collect_files(paths).files:
        for example in check_file(path).examples:
            by_intent.setdefault(example.intent, []).append(example)
    return by_intent


def check_duplicates(examples: Iterable[Example], labels: Mapping[Path, str]) -> list[Problem]:
    """Report examples shared by two intents (errors) or repeated in one intent (warnings)."""

    def where(example: Example) -> str:
        path = example.location.path
        return f"{labels.get(path, str(path))}:{example.location.line}"

    problems: list[Problem] = []
    # normalized text -> intent -> that intent's first example with this text
    first_seen: dict[str, dict[str, Example]] = {}
    for example in examples:
        by_intent = first_seen.setdefault(normalize_example(example.text), {})
        here = example.location
        earlier = by_intent.get(example.intent)
        if earlier is not None:
            message = (
                f"'{example.text}' is already an example of '{example.intent}' ({where(earlier)})"
            )
            problems.append(warning_at(here.path, here.line, "example-duplicate", message))
            continue
        if by_intent:
            others = " and ".join(
                f"'{other.intent}' ({where(other)}"
                + (f": '{other.text}')" if other.text != example.text else ")")
                for other in by_intent.values()
            )
            message = (
                f"'{example.text}' is an example of '{example.intent}' ({where(example)}) "
                f"and also of {others}; one sentence can teach only one intent"
            )
            problems.append(error_at(here.path, here.line, "example-conflict", message))
        by_intent[example.intent] = example
    return problems


def count_examples(checks: Iterable[FileCheck]) -> dict[str, int]:
    """Intent -> distinct examples in all files; a declared intent with none counts 0."""
    distinct: dict[str, set[str]] = {}
    for check in checks:
        for intent in check.declarations:
            distinct.setdefault(intent, set())
        for example in check.examples:
            distinct[example.intent].add(normalize_example(example.text))
    return {intent: len(texts) for intent, texts in distinct.items()}


def check_counts(
    checks: Sequence[FileCheck], counts: Mapping[str, int], *, min_examples: int, unreadable: int
) -> list[Problem]:
    """Report intents with too few examples, once each, where they are first declared."""
    first_declared: dict[str, Location] = {}
    for check in checks:
        for intent, line in check.declarations.items():
            first_declared.setdefault(intent, Location(check.path, line))
    note = f" (not counting {unreadable} file(s) that could not be read)" if unreadable else ""
    problems: list[Problem] = []
    for intent, location in first_declared.items():
        count = counts[intent]
        if count < min_examples:
            problems.append(
                error_at(
                    location.path,
                    location.line,
                    "too-few-examples",
                    f"intent '{intent}' has {count} distinct example(s) in all files; "
                    f"it needs at least {min_examples}{note}",
                )
            )
    return problems
