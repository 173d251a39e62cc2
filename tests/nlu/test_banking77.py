"""Banking77's loader and the fixed held-out split, on small inline files."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.banking77 import held_out_split, load_banking77
from nlu.benchmark import BenchmarkDataError, Example


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_rows_load_in_file_order(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'text,category\n"Where is my card, please?",card_arrival\nhi,greet\n')

    assert load_banking77(path) == [
        Example("Where is my card, please?", "card_arrival"),
        Example("hi", "greet"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words,label\nhi,greet\n", "expected the header text,category"),
        ("", "expected the header text,category"),
        ("text,category\nhi\n", r"train.csv:2: expected a text and a category"),
        ("text,category\nhi,greet\n ,greet\n", r"train.csv:3: expected a text and a category"),
    ],
)
def test_a_malformed_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(BenchmarkDataError, match=message):
        load_banking77(_csv(tmp_path, content))


def test_a_missing_file_says_where_the_data_lives(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataError, match=r"no such file.*shared/data/README\.md"):
        load_banking77(tmp_path / "missing.csv")


def test_the_split_holds_out_a_fifth_of_each_intent_the_same_way_every_time() -> None:
    examples = [Example(f"{intent} {n}", intent) for intent in ("a", "b") for n in range(10)]

    train, held_out = held_out_split(examples)

    assert len(held_out) == 4
    assert sorted(e.intent for e in held_out) == ["a", "a", "b", "b"]
    assert sorted([*train, *held_out], key=str) == sorted(examples, key=str)
    assert held_out_split(examples) == (train, held_out)
