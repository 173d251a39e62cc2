"""The fault suite's time limits: each on its scenario alone (``harness.scenario_limit``).

A limit that also counted set-up failed scenarios that were fine: the first fault test on
each pytest-xdist worker trains the shipped model and starts the session's Rasa first."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest


def _scenarios() -> Iterator[tuple[str, list[pytest.Mark]]]:
    """Each fault test with its marks, the closest first (its own, then its module's)."""
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.faults.{path.stem}")
        module_marks: list[pytest.Mark] = [m.mark for m in getattr(module, "pytestmark", [])]
        if not any(mark.name == "faults" for mark in module_marks):
            continue
        for name, test in vars(module).items():
            if name.startswith("test_") and callable(test):
                yield f"{path.name}::{name}", [*getattr(test, "pytestmark", []), *module_marks]


def test_every_fault_scenario_has_a_limit_on_the_scenario_alone() -> None:
    limits = {
        name: next((mark for mark in marks if mark.name == "timeout"), None)
        for name, marks in _scenarios()
    }
    assert "test_concurrency.py::test_fifty_customers_ask_for_a_person_at_once" in limits
    wrong = [name for name, mark in limits.items() if not (mark and mark.kwargs.get("func_only"))]
    assert wrong == []
