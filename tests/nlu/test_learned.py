"""The trainers' files Tandem writes: learned examples appended without losing any, a
domain in step with the data, and the shipped domain matching the shipped data."""

from __future__ import annotations

from pathlib import Path

from nlu.learned import (
    DOMAIN_FILE,
    add_learned,
    domain_differences,
    domain_names,
    write_domain,
)
from nlu.validation import load_examples, validate_nlu_data

REPO = Path(__file__).resolve().parents[2]


def test_learned_examples_are_added_to_what_is_there_and_validate(tmp_path: Path) -> None:
    learned = tmp_path / "learned.yml"
    assert add_learned(learned, [("billing_question", "my invoice <card> is: wrong")]) == 1
    add_learned(learned, [("billing_question", "charged twice"), ("greet", "yo there")])
    examples = load_examples([learned])
    assert {i: [e.text for e in xs] for i, xs in examples.items()} == {
        "billing_question": ["my invoice <card> is: wrong", "charged twice"],
        "greet": ["yo there"],
    }
    report = validate_nlu_data([tmp_path], min_examples=0)
    assert report.ok, [p.message for p in report.problems]


def test_the_domain_is_written_sorted_and_read_back(tmp_path: Path) -> None:
    domain = tmp_path / DOMAIN_FILE
    write_domain(domain, intents=["greet", "affirm", "greet"], entities=["plan", "email"])
    assert domain_names(domain) == (["affirm", "greet"], ["email", "plan"])
    assert domain_differences(domain, ["affirm", "greet"]) == []
    assert [
        line.split("warning: ")[1] for line in domain_differences(domain, ["greet", "new"])
    ] == [
        "intent new is in the data but not the domain",
        "intent affirm is in the domain but not the data",
    ]


def test_the_shipped_domain_lists_exactly_the_shipped_intents() -> None:
    report = validate_nlu_data([REPO / "nlu" / "data"])
    assert report.ok
    assert domain_differences(REPO / "nlu" / DOMAIN_FILE, report.intents) == []
