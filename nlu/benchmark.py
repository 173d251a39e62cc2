"""The out-of-scope benchmark's parts (``tandem bench oos``): CLINC150 to Rasa, and measuring.

CLINC150 (Larson et al. 2019) has 150 in-scope intents in 10 domains and out-of-scope
queries labelled ``oos``. The benchmark trains the shipped pipeline on the train split plus
``oos_train`` (as ``out_of_scope``, the intent the shipped data uses for "none of the
above"), parses ``val`` and ``oos_val`` with a real Rasa server, and asks what a decision
rule does with each parse. The rule is passed in as a :data:`Judge`, so this module needs
nothing from the handoff core (which depends on :mod:`nlu`, not the other way round).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.client import IntentScore, NluParser, ParseResult
from nlu.errors import NluError

OOS_LABEL = "oos"  # CLINC150's label for out-of-scope queries
OUT_OF_SCOPE_INTENT = "out_of_scope"  # the shipped data's fallback intent
_SPLITS = ("train", "val", "oos_train", "oos_val")

# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as entity
# markup and drops the brackets; all three need a `]` directly followed by an opener.
_ENTITY_MARKUP = re.compile(r"\]([({\[])")
# YAML refuses these characters anywhere in a document (YAML 1.1 "printable" set).
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Judge = Callable[[ParseResult], str | None]
"""A decision rule: the intent it answers for a parse, or None when it does not answer."""


class BenchmarkDataError(NluError):
    """A benchmark's data set is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str


@dataclass(frozen=True, slots=True)
class Clinc150:
    """The splits the benchmark uses; out-of-scope examples keep CLINC's ``oos`` label."""

    train: tuple[Example, ...]
    val: tuple[Example, ...]
    oos_train: tuple[Example, ...]
    oos_val: tuple[Example, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    """One labelled example, what the NLU made of it, and how long that took."""

    example: Example
    result: ParseResult
    seconds: float

    @property
    def in_scope(self) -> bool:
        return self.example.intent != OOS_LABEL


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    wall_seconds: float
    p50: float
    p95: float

    @property
    def per_second(self) -> float:
        return self.count / self.wall_seconds if self.wall_seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision rule did with out-of-scope and in-scope queries."""

    oos_total: int
    oos_caught: int  # out of scope and not answered: the right call
    in_scope_total: int
    answered_right: int
    answered_wrong: int  # the worst case: a confident answer to another question

    @property
    def not_answered(self) -> int:
        """In scope but not answered: a needless "please rephrase"."""
        return self.in_scope_total - self.answered_right - self.answered_wrong

    @property
    def oos_caught_rate(self) -> float | None:
        return _share(self.oos_caught, self.oos_total)

    @property
    def right_rate(self) -> float | None:
        return _share(self.answered_right, self.in_scope_total)

    @property
    def wrong_rate(self) -> float | None:
        return _share(self.answered_wrong, self.in_scope_total)

    @property
    def not_answered_rate(self) -> float | None:
        return _share(self.not_answered, self.in_scope_total)


# --- the data ---------------------------------------------------------------------------


def load_clinc150(path: Path) -> Clinc150:
    """CLINC150's ``data_full.json`` layout: ``{split: [[text, intent], ...]}``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchmarkDataError(
            f"{path}: no such file (CLINC150's data_full.json; see ../shared/data/README.md)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BenchmarkDataError(f"{path}: cannot read CLINC150: {exc}") from None
    if not isinstance(raw, dict):
        raise BenchmarkDataError(f"{path}: expected a JSON object of splits")
    splits = {name: _split(path, raw, name) for name in _SPLITS}
    return Clinc150(**splits)


def _split(path: Path, raw: dict[str, object], name: str) -> tuple[Example, ...]:
    rows = raw.get(name)
    if not isinstance(rows, list):
        raise BenchmarkDataError(f"{path}: expected a list under {name!r}")
    examples = []
    for number, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(v, str) for v in row)):
            raise BenchmarkDataError(f"{path}: {name}[{number}]: expected [text, intent]")
        examples.append(Example(row[0], row[1]))
    return tuple(examples)


def per_intent_sample(
    examples: Iterable[Example], per_intent: int | None, *, seed: int = 0
) -> list[Example]:
    """At most ``per_intent`` examples of each intent, the same ones on every run."""
    if per_intent is None:
        return list(examples)
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    chooser = random.Random(seed)  # a reproducible sample: the same on every run
    sample: list[Example] = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        sample += chooser.sample(group, min(per_intent, len(group)))
    return sample


def training_examples(data: Clinc150, per_intent: int | None = None) -> list[Example]:
    """In-scope train plus oos_train, out of scope renamed to the shipped fallback intent."""
    chosen = per_intent_sample([*data.train, *data.oos_train], per_intent)
    return [Example(e.text, rasa_intent(e.intent)) for e in chosen]


def rasa_intent(label: str) -> str:
    return OUT_OF_SCOPE_INTENT if label == OOS_LABEL else label


def example_line(text: str) -> str | None:
    """``text`` as it can stand after ``- `` in a ``|`` block, or None if nothing is left.

    Rasa splits the block into lines (on every line break Python knows) and strips each,
    so all whitespace runs become one space; entity markup is broken up with a space,
    which the tokenizer ignores, so Rasa trains on the words as written.
    """
    # Split first: some line breaks (\x0b, \x1c) are also characters YAML refuses.
    words = (_NON_PRINTABLE.sub("", word) for word in text.split())
    cleaned = _ENTITY_MARKUP.sub(r"] \1", " ".join(word for word in words if word))
    return cleaned or None


def to_rasa_yaml(examples: Iterable[Example]) -> str:
    """Rasa 3 NLU training data: one ``- intent:`` with an ``examples: |`` block per intent."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        line = example_line(example.text)
        if line is not None:
            by_intent[example.intent].append(line)
    out = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        # A JSON string is a valid YAML double-quoted scalar, whatever the name holds.
        out += [f"  - intent: {json.dumps(intent)}", "    examples: |"]
        out += [f"      - {line}" for line in by_intent[intent]]
    return "\n".join(out) + "\n"


def write_training_data(examples: Iterable[Example], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "nlu.yml"
    path.write_text(to_rasa_yaml(examples), encoding="utf-8")
    return path


# --- parsing ----------------------------------------------------------------------------


async def parse_all(
    parser: NluParser,
    examples: Sequence[Example],
    *,
    concurrency: int = 8,
    on_parsed: Callable[[int], None] | None = None,
) -> tuple[list[Parsed], Latency]:
    """Parse every example, ``concurrency`` at a time; results in the examples' order."""
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(example: Example) -> Parsed:
        nonlocal done
        async with gate:
            started = time.perf_counter()
            result = await parser.parse(example.text)
            seconds = time.perf_counter() - started
        done += 1
        if on_parsed is not None:
            on_parsed(done)
        return Parsed(example, result, seconds)

    started = time.perf_counter()
    parsed = await asyncio.gather(*(one(example) for example in examples))
    wall = time.perf_counter() - started
    return parsed, latency(parsed, wall)


def latency(parsed: Sequence[Parsed], wall_seconds: float) -> Latency:
    seconds = [item.seconds for item in parsed]
    return Latency(
        count=len(parsed),
        wall_seconds=wall_seconds,
        p50=percentile(seconds, 50),
        p95=percentile(seconds, 95),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` percent of values at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


# --- measuring --------------------------------------------------------------------------


def intent_accuracy(parsed: Iterable[Parsed]) -> float | None:
    """In-scope only: the share whose top intent is the label, whatever its confidence."""
    hits = [_top(item) == item.example.intent for item in parsed if item.in_scope]
    return _share(sum(hits), len(hits))


def judge_all(parsed: Sequence[Parsed], judge: Judge) -> Outcome:
    """Replay each parse through ``judge``; "answered" means it named an intent."""
    oos_total = oos_caught = in_scope = right = wrong = 0
    for item in parsed:
        answered = judge(item.result)
        if not item.in_scope:
            oos_total += 1
            oos_caught += answered is None
        else:
            in_scope += 1
            right += answered == item.example.intent
            wrong += answered is not None and answered != item.example.intent
    return Outcome(oos_total, oos_caught, in_scope, right, wrong)


def oos_pairs(parsed: Iterable[Parsed], threshold: float) -> list[tuple[bool, bool]]:
    """(truly out of scope, predicted out of scope) per query, the classic CLINC150 way:
    predicted when the top intent is ``out_of_scope`` or its confidence is below
    ``threshold``."""
    pairs = []
    for item in parsed:
        predicted = _top(item) == OUT_OF_SCOPE_INTENT or item.result.confidence < threshold
        pairs.append((not item.in_scope, predicted))
    return pairs


def _top(item: Parsed) -> str | None:
    return item.result.intent.name if item.result.intent else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- two turns --------------------------------------------------------------------------

TurnJudge = Callable[[ParseResult, bool], str]
"""A decision rule on one turn: "answer", "clarify" or "handoff" for a parse, as a first
message (False) or right after a failed turn (True)."""


@dataclass(frozen=True, slots=True)
class TwoTurns:
    """Of all ordered pairs of two different queries of one kind, how many hand off within
    the two turns."""

    handed_off: int
    pairs: int

    @property
    def rate(self) -> float | None:
        return _share(self.handed_off, self.pairs)


def two_turn_handoffs(parsed: Sequence[Parsed], judge: TurnJudge) -> tuple[TwoTurns, TwoTurns]:
    """(out of scope, in scope): a customer sends one query, then another of the same kind.

    Exact over every ordered pair (q1, q2) with q1 != q2, counted without listing the
    pairs: q1 hands off; or q1 fails (clarify) and q2, after a failed turn, hands off; or q1
    is answered and q2, as after an answer, hands off (a failure there only asks again).
    What q2 does after an answer is what it does as a first message: only a "no" or the
    same intent again judge the answer, and those ask to rephrase, never hand off.
    """
    return (
        _pairs([item for item in parsed if not item.in_scope], judge),
        _pairs([item for item in parsed if item.in_scope], judge),
    )


def _pairs(parsed: Sequence[Parsed], judge: TurnJudge) -> TwoTurns:
    n = len(parsed)
    first = [judge(item.result, False) for item in parsed]
    after_failure = [judge(item.result, True) == "handoff" for item in parsed]
    fresh_handoff = [outcome == "handoff" for outcome in first]
    clarified = [outcome == "clarify" for outcome in first]
    answered = [outcome == "answer" for outcome in first]
    handed = sum(fresh_handoff) * (n - 1)
    # Pairs of two different queries: the sums over all q2 less the pair (q, q).
    handed += sum(clarified) * sum(after_failure) - sum(
        c and a for c, a in zip(clarified, after_failure, strict=True)
    )
    handed += sum(answered) * sum(fresh_handoff) - sum(
        a and h for a, h in zip(answered, fresh_handoff, strict=True)
    )
    return TwoTurns(handed, n * (n - 1))


# --- parses kept between runs ---------------------------------------------------------------


def write_parses(parsed: Sequence[Parsed], path: Path) -> None:
    """One JSON line per parse: the labelled text, the ranking and the seconds it took."""
    lines = [
        json.dumps(
            {
                "text": item.example.text,
                "label": item.example.intent,
                "ranking": [[score.name, score.confidence] for score in item.result.ranking],
                "seconds": item.seconds,
            }
        )
        for item in parsed
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_parses(path: Path) -> list[Parsed]:
    """What :func:`write_parses` wrote (entities are not kept: the policy reads none)."""
    parsed = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkDataError(f"{path}: cannot read the parses: {exc}") from None
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
            ranking = tuple(IntentScore(str(name), float(c)) for name, c in row["ranking"])
            result = ParseResult(
                text=str(row["text"]),
                intent=ranking[0] if ranking else None,
                ranking=ranking,
                entities=(),
            )
            parsed.append(
                Parsed(Example(str(row["text"]), str(row["label"])), result, float(row["seconds"]))
            )
        except (ValueError, KeyError, TypeError):
            raise BenchmarkDataError(f"{path}:{number}: expected a parse as written") from None
    return parsed
