"""Banking77 (Casanueva et al. 2020) for ``tandem bench banking77``: 77 fine-grained
banking intents, and a fixed held-out split of its train file.

The shared copy has the train split only, so the benchmark holds out a fifth of each
intent's examples: the examples of an intent are shuffled with a fixed seed (the same on
every run and machine) and every fifth, from the first, is held out. Tune on nothing
else: the published test split is kept for checking.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from nlu.benchmark import BenchmarkDataError, Example

HELD_OUT_EVERY = 5  # one example in five of each intent is held out
_SEED = 77


def load_banking77(path: Path) -> list[Example]:
    """The CSV's rows (``text,category`` with that header), in file order."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise BenchmarkDataError(
            f"{path}: no such file (Banking77's train.csv; see ../shared/data/README.md)"
        ) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BenchmarkDataError(f"{path}: cannot read Banking77: {exc}") from None
    if not rows or rows[0] != ["text", "category"]:
        raise BenchmarkDataError(f"{path}: expected the header text,category")
    examples = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise BenchmarkDataError(f"{path}:{number}: expected a text and a category")
        examples.append(Example(row[0], row[1]))
    return examples


def held_out_split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out): per intent, every fifth example after a seeded shuffle."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    train: list[Example] = []
    held_out: list[Example] = []
    chooser = random.Random(_SEED)
    for intent in sorted(by_intent):
        group = list(by_intent[intent])
        chooser.shuffle(group)
        for position, example in enumerate(group):
            (held_out if position % HELD_OUT_EVERY == 0 else train).append(example)
    return train, held_out
