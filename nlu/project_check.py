"""The trainers' folder checked as a whole (``tandem nlu validate``): the training data
(:mod:`nlu.validation`), and what no single set of files can tell. The held-out examples
(``nlu/test_data``) exist, parse, and share no sentence with the training data (a copied
example makes ``tandem nlu test`` score what the model memorised). Every entity an example
annotates is declared in ``nlu/domain.yml``, which Rasa's own tools read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from nlu.learned import DomainError, domain_names
from nlu.validation import Example, Problem, ValidationReport, load_examples, validate_nlu_data
from nlu.validation.annotations import entity_labels, normalize_example
from nlu.validation.problems import error_at, warning_at


def validate_project(
    data_dir: Path, *, test_dir: Path, domain_file: Path, min_examples: int
) -> ValidationReport:
    """:func:`~nlu.validation.validate_nlu_data` on ``data_dir``, with the held-out data of
    ``test_dir`` and the entities of ``domain_file`` checked against it."""
    report = validate_nlu_data([data_dir], min_examples=min_examples)
    training = _examples([data_dir])
    problems = [*report.problems, *check_test_data(test_dir, training)]
    held_out = _examples([test_dir]) if test_dir.is_dir() else []
    problems += check_entities([*training, *held_out], domain_file)
    problems.sort(key=lambda problem: (str(problem.path), problem.line))
    return replace(report, problems=tuple(problems))


def check_test_data(test_dir: Path, training: Sequence[Example]) -> list[Problem]:
    """The held-out data: present, valid, and no example that is also a training one."""
    if not test_dir.is_dir():
        return [
            warning_at(
                test_dir,
                0,
                "test-data-missing",
                "no held-out examples: `tandem nlu test` scores the model on this folder",
            )
        ]
    problems = list(validate_nlu_data([test_dir], min_examples=0).problems)
    trained = {normalize_example(e.text): e for e in training}
    intents = {e.intent for e in training}
    for example in _examples([test_dir]):
        where = example.location
        copy = trained.get(normalize_example(example.text))
        if copy is not None:
            message = (
                f"'{example.text}' (intent '{example.intent}') is also a training example "
                f"({_near(copy, test_dir)}, intent '{copy.intent}'): a held-out example "
                "must not be trained on; remove one of the two"
            )
            problems.append(error_at(where.path, where.line, "example-in-training", message))
        if example.intent not in intents:
            message = (
                f"intent '{example.intent}' has no training examples; the model cannot know it"
            )
            problems.append(warning_at(where.path, where.line, "test-intent-unknown", message))
    return problems


def check_entities(examples: Iterable[Example], domain_file: Path) -> list[Problem]:
    """Every annotated entity declared in the domain (an error: Rasa's tools refuse it);
    a declared entity no example annotates (a warning: no extractor learns it)."""
    try:
        _intents, declared = domain_names(domain_file)
    except DomainError:
        return []  # said once, by the domain's own check
    problems: list[Problem] = []
    used: set[str] = set()
    for example in examples:
        for entity in entity_labels(example.text):
            used.add(entity)
            if entity not in declared:
                where = example.location
                message = (
                    f"entity '{entity}' (in '{example.text}') is not declared in "
                    f"{domain_file.name}: add it under entities, or fix the annotation"
                )
                problems.append(error_at(where.path, where.line, "entity-undeclared", message))
    for entity in sorted(set(declared) - used):
        message = f"entity '{entity}' is declared but no example annotates it"
        problems.append(warning_at(domain_file, 0, "entity-unused", message))
    return problems


def _near(example: Example, test_dir: Path) -> str:
    """Where ``example`` is, relative to the trainers' folder when it is in it."""
    path = example.location.path
    if path.is_relative_to(test_dir.parent):
        path = path.relative_to(test_dir.parent)
    return f"{path}:{example.location.line}"


def _examples(paths: Sequence[Path]) -> list[Example]:
    return [example for group in load_examples(paths).values() for example in group]
