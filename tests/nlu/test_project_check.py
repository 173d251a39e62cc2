"""`tandem nlu validate` checks the trainers' folder as a whole: the held-out examples exist,
parse and copy no training example (an error naming both files and intents); every entity an
example annotates is declared in the domain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlu.project_check import validate_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped trainers' folder (data, test data, domain)."""
    shutil.copytree(REPO / "nlu" / "data", tmp_path / "data")
    shutil.copytree(REPO / "nlu" / "test_data", tmp_path / "test_data")
    shutil.copy(REPO / "nlu" / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def check(folder: Path) -> list[str]:
    report = validate_project(
        folder / "data",
        test_dir=folder / "test_data",
        domain_file=folder / "domain.yml",
        min_examples=10,
    )
    return [problem.format(folder) for problem in report.problems]


def add(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_shipped_folder_is_clean(folder: Path) -> None:
    assert check(folder) == []


def test_a_training_example_copied_into_the_test_data_is_an_error_naming_both(
    folder: Path,
) -> None:
    add(
        folder / "test_data" / "test_nlu.yml",
        "\n  - intent: order_status\n    examples: |\n      - Where is my order ORD-48213?\n",
    )
    [copied] = check(folder)
    assert copied.startswith("test_data/test_nlu.yml:")
    assert ": error: 'Where is my order ORD-48213?' (intent 'order_status') is also a " in copied
    assert "training example (data/orders.yml:10, intent 'order_status')" in copied
    assert copied.endswith("[example-in-training]")


def test_test_data_missing_unparsable_or_of_unknown_intents(folder: Path) -> None:
    shutil.rmtree(folder / "test_data")
    assert [line.split(": ", 1)[1] for line in check(folder)] == [
        "warning: no held-out examples: `tandem nlu test` scores the model on this folder "
        "[test-data-missing]"
    ]
    (folder / "test_data").mkdir()
    (folder / "test_data" / "broken.yml").write_text("nlu:\n  - intent: [x\n", encoding="utf-8")
    (folder / "test_data" / "new.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: teleport\n    examples: |\n      - beam me up\n',
        encoding="utf-8",
    )
    found = check(folder)
    assert any(line.startswith("test_data/broken.yml:") and ": error: " in line for line in found)
    assert any("intent 'teleport' has no training examples" in line for line in found)


def test_entities_are_declared_in_the_domain(folder: Path) -> None:
    add(
        folder / "data" / "orders.yml",
        "\n  - intent: order_status\n    examples: |\n"
        "      - track parcel [PX-1](parcel_id)\n"
        '      - where is parcel [PX-2]{"entity": "parcel_id"}\n',
    )
    domain = folder / "domain.yml"
    domain.write_text(domain.read_text(encoding="utf-8") + "  - colour\n", encoding="utf-8")
    found = check(folder)
    undeclared = [line for line in found if "[entity-undeclared]" in line]
    assert len(undeclared) == 2
    assert all("entity 'parcel_id'" in line and ": error: " in line for line in undeclared)
    assert (
        "domain.yml: warning: entity 'colour' is declared but no example annotates it"
        in "\n".join(found)
    )
