"""Checks the trainers' Rasa 3.x NLU training data (``nlu/data/*.yml``) before Rasa sees it.

Rasa reports most data mistakes as warnings buried in the training log, or quietly skips the
broken block and trains a worse model. This package finds those mistakes up front, each with a
file and a 1-based line, so ``tandem nlu validate`` can point a trainer at the exact spot.

It runs in the service's own Python: the YAML is read with PyYAML's composer (nodes keep their
line numbers) and nothing here imports rasa. Bad input never raises; every finding becomes a
:class:`Problem`. Only programmer errors (wrong argument types or values) raise.

- :mod:`.validator`: :func:`validate_nlu_data`, every check in one :class:`ValidationReport`
- :mod:`.problems`: :class:`Problem`, :class:`Severity` and the report
- :mod:`.inputs`: the given paths as YAML files, and directories without data
- :mod:`.yaml_reading`: one file's bytes, tabs and YAML parse, with the right line numbers
- :mod:`.structure`, :mod:`.keys`, :mod:`.example_blocks`: the shape of a file, key by key
- :mod:`.annotations`: entity annotations checked, stripped and normalized
- :mod:`.examples`: :func:`load_examples`, and the rules that need every file at once
- :mod:`.file_check`, :mod:`.nodes`: what one file's check collects; PyYAML node helpers
"""

from nlu.validation.annotations import normalize_example, strip_annotations
from nlu.validation.examples import load_examples
from nlu.validation.file_check import Example, Location
from nlu.validation.problems import Problem, Severity, ValidationReport
from nlu.validation.validator import DEFAULT_MIN_EXAMPLES, validate_nlu_data

__all__ = [
    "DEFAULT_MIN_EXAMPLES",
    "Example",
    "Location",
    "Problem",
    "Severity",
    "ValidationReport",
    "load_examples",
    "normalize_example",
    "strip_annotations",
    "validate_nlu_data",
]
