"""The out-of-scope benchmark's helpers on tiny inline data: loading CLINC150's layout,
writing Rasa training data that reads back as written, and the measurements.

The benchmark itself (``tandem bench oos``) trains on the shared data set and is not a test.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import yaml

from nlu.benchmark import (
    OUT_OF_SCOPE_INTENT,
    BenchmarkDataError,
    Clinc150,
    Example,
    Judge,
    Outcome,
    Parsed,
    example_line,
    intent_accuracy,
    judge_all,
    latency,
    load_clinc150,
    oos_pairs,
    parse_all,
    per_intent_sample,
    percentile,
    read_parses,
    to_rasa_yaml,
    training_examples,
    two_turn_handoffs,
    write_parses,
    write_training_data,
)
from nlu.client import IntentScore, ParseResult

# Rasa 3.6's own pattern for entity markup (rasa/shared/nlu/training_data/entities_parser.py):
# a training text must never match it, or Rasa would rewrite the text.
RASA_ENTITY_MARKUP = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)

CLINC = {
    "train": [["what's my balance", "balance"], ["play some jazz", "play_music"]],
    "val": [["how much money do i have", "balance"]],
    "oos_train": [["how tall is a giraffe", "oos"]],
    "oos_val": [["who won the 1998 world cup", "oos"]],
    "test": [["ignored", "balance"]],
}


def rasa_reads(document: str) -> dict[str, list[str]]:
    """The examples per intent as Rasa 3.6 reads a ``|`` block (rasa_yaml.py): each line
    that starts with "-", without it, stripped of "\\n\\r "; entity markup removed."""
    examples: dict[str, list[str]] = {}
    for item in yaml.safe_load(document)["nlu"]:
        lines = [line for line in item["examples"].splitlines() if line.startswith("-")]
        texts = [line[1:].strip("\n\r ") for line in lines]
        examples[item["intent"]] = [RASA_ENTITY_MARKUP.sub(r"\g<entity_text>", t) for t in texts]
    return examples


def parse(text: str, *ranking: tuple[str, float]) -> ParseResult:
    scores = tuple(IntentScore(name, confidence) for name, confidence in ranking)
    return ParseResult(text=text, intent=scores[0] if scores else None, ranking=scores, entities=())


def parsed(label: str, *ranking: tuple[str, float]) -> Parsed:
    return Parsed(Example("some text", label), parse("some text", *ranking), seconds=0.01)


# --- loading ----------------------------------------------------------------------------


def test_load_reads_the_four_splits(tmp_path: Path) -> None:
    path = tmp_path / "clinc.json"
    path.write_text(json.dumps(CLINC), encoding="utf-8")

    data = load_clinc150(path)

    assert data.train == (
        Example("what's my balance", "balance"),
        Example("play some jazz", "play_music"),
    )
    assert data.val == (Example("how much money do i have", "balance"),)
    assert data.oos_train == (Example("how tall is a giraffe", "oos"),)
    assert data.oos_val == (Example("who won the 1998 world cup", "oos"),)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataError, match=r"missing\.json: no such file"):
        load_clinc150(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", r"cannot read CLINC150"),
        ("[]", r"expected a JSON object of splits"),
        (json.dumps({**CLINC, "val": {}}), r"expected a list under 'val'"),
        (
            json.dumps({**CLINC, "oos_val": [["text only"]]}),
            r"oos_val\[0\]: expected \[text, intent\]",
        ),
        (json.dumps({k: v for k, v in CLINC.items() if k != "train"}), r"under 'train'"),
    ],
)
def test_malformed_data_says_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "clinc.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match=message):
        load_clinc150(path)


# --- training data ----------------------------------------------------------------------


def test_training_data_is_train_plus_oos_train_renamed() -> None:
    data = Clinc150(
        train=(Example("a", "balance"),),
        val=(Example("b", "balance"),),
        oos_train=(Example("c", "oos"),),
        oos_val=(Example("d", "oos"),),
    )
    assert training_examples(data) == [Example("a", "balance"), Example("c", OUT_OF_SCOPE_INTENT)]


def test_the_sample_caps_each_intent_and_is_the_same_every_time() -> None:
    examples = [Example(f"x{n}", "many") for n in range(10)] + [Example("y", "one")]

    first = per_intent_sample(examples, 3)

    assert sorted(e.intent for e in first) == ["many", "many", "many", "one"]
    assert per_intent_sample(examples, 3) == first
    assert per_intent_sample(examples, None) == examples


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("  play\tsome   jazz ", "play some jazz"),
        ("one\ntwo\r\nthree", "one two three"),
        # More line breaks Python's splitlines() (which Rasa uses) knows about.
        ("one\u2028two\x85three\x0bfour\x1cfive", "one two three four five"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("is there a travel alert for [country]", "is there a travel alert for [country]"),
        ("[paris](city)", "[paris] (city)"),
        ('[paris]{"entity": "city"}', '[paris] {"entity": "city"}'),
        ("[a][b][c]", "[a] [b] [c]"),
        ("", None),
        (" \t\u2028 ", None),
    ],
)
def test_example_line(text: str, line: str | None) -> None:
    assert example_line(text) == line


TRICKY = [
    "- starts with a dash",
    "#hashtag and a # comment",
    "key: value, then more: values",
    "\"quoted\" and 'single' and \u2019curly\u2019",
    "| pipe > angle ! bang & amp * star % per @ at ` tick",
    "{braces} and [brackets] and (parens)",
    "add [milk](item) to my list",
    "---",
    "...",
    "  leading and trailing  ",
    "unicode: caf\u00e9 \u00fcber \u4e2d\u6587 \U0001f600",
    "tab\tinside and a line\nbreak",
]


def test_tricky_texts_reach_rasa_as_written() -> None:
    examples = [Example(text, "tricky") for text in TRICKY]

    read = rasa_reads(to_rasa_yaml(examples))

    # As written, up to whitespace and the space that keeps "](" from being markup.
    expected = [" ".join(text.split()).replace("](", "] (") for text in TRICKY]
    assert read == {"tricky": expected}


def test_intents_are_grouped_and_blank_texts_left_out(tmp_path: Path) -> None:
    examples = [Example("b1", "b"), Example("a1", "a"), Example("  ", "a"), Example("b2", "b")]

    path = write_training_data(examples, tmp_path / "data")

    document = path.read_text(encoding="utf-8")
    assert rasa_reads(document) == {"a": ["a1"], "b": ["b1", "b2"]}
    assert yaml.safe_load(document)["version"] == "3.1"


def test_odd_intent_names_stay_one_yaml_scalar() -> None:
    assert rasa_reads(to_rasa_yaml([Example("hi", "odd: # name")])) == {"odd: # name": ["hi"]}


# --- parsing ----------------------------------------------------------------------------


class SlowParser:
    """Answers after a pause, noting how many calls were in flight at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0

    async def parse(self, text: str) -> ParseResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.01 if text.endswith("0") else 0.001)
        self.in_flight -= 1
        return parse(text, ("echo", 0.9))


async def test_parse_all_is_bounded_and_keeps_the_order() -> None:
    parser = SlowParser()
    examples = [Example(f"text {n}", "echo") for n in range(20)]
    seen: list[int] = []

    results, speed = await parse_all(parser, examples, concurrency=3, on_parsed=seen.append)

    assert [item.example for item in results] == examples
    assert [item.result.text for item in results] == [e.text for e in examples]
    assert parser.most == 3
    assert seen == list(range(1, 21))
    assert speed.count == 20
    assert 0 < speed.p50 <= speed.p95
    assert speed.per_second > 0


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0


def test_latency_of_nothing_is_zero() -> None:
    speed = latency([], wall_seconds=0.0)
    assert (speed.count, speed.p50, speed.p95, speed.per_second) == (0, 0.0, 0.0, 0.0)


# --- measuring --------------------------------------------------------------------------


def at_threshold(threshold: float) -> Judge:
    """A stand-in for the policy: answer the top intent when sure and not out of scope."""

    def judge(result: ParseResult) -> str | None:
        top = result.intent
        if top is None or top.name == OUT_OF_SCOPE_INTENT or top.confidence < threshold:
            return None
        return top.name

    return judge


SAMPLE = [
    parsed("balance", ("balance", 0.9), ("transfer", 0.05)),  # answered right
    parsed("balance", ("transfer", 0.8), ("balance", 0.1)),  # answered wrong
    parsed("balance", ("balance", 0.3), ("transfer", 0.2)),  # right intent, unsure
    parsed("balance"),  # no intent at all
    parsed("oos", (OUT_OF_SCOPE_INTENT, 0.7), ("balance", 0.2)),  # caught by its intent
    parsed("oos", ("transfer", 0.4), ("balance", 0.3)),  # caught by low confidence
    parsed("oos", ("balance", 0.95), ("transfer", 0.01)),  # answered: missed
]


def test_intent_accuracy_counts_the_top_intent_of_in_scope_texts_only() -> None:
    assert intent_accuracy(SAMPLE) == 2 / 4
    assert intent_accuracy(SAMPLE[4:]) is None


def test_judge_all_sorts_answers_into_right_wrong_and_not_answered() -> None:
    outcome = judge_all(SAMPLE, at_threshold(0.5))

    assert outcome == Outcome(
        oos_total=3, oos_caught=2, in_scope_total=4, answered_right=1, answered_wrong=1
    )
    assert outcome.not_answered == 2
    assert (outcome.right_rate, outcome.wrong_rate, outcome.not_answered_rate) == (0.25, 0.25, 0.5)
    assert outcome.oos_caught_rate == 2 / 3


def test_a_lower_threshold_answers_more_right_and_catches_less() -> None:
    outcome = judge_all(SAMPLE, at_threshold(0.25))
    assert (outcome.answered_right, outcome.answered_wrong, outcome.oos_caught) == (2, 1, 1)


def test_shares_of_nothing_are_undefined() -> None:
    outcome = judge_all([], at_threshold(0.5))
    assert outcome.oos_caught_rate is None
    assert outcome.right_rate is None


def test_oos_pairs_are_the_classic_clinc150_rule() -> None:
    assert oos_pairs(SAMPLE, 0.5) == [
        (False, False),
        (False, False),
        (False, True),  # below the threshold: called out of scope
        (False, True),  # no intent: confidence 0
        (True, True),
        (True, True),
        (True, False),
    ]
    # At the threshold is not below it.
    assert oos_pairs(SAMPLE[2:3], 0.3) == [(False, False)]


# --- two turns --------------------------------------------------------------------------


def test_two_turn_handoffs_count_every_pair_of_two_different_queries() -> None:
    # Each query's text says what the rule does with it: first / after a failed turn.
    rules = {
        "a": ("answer", "answer"),
        "b": ("clarify", "handoff"),
        "c": ("clarify", "clarify"),
        "d": ("handoff", "handoff"),
        "e": ("answer", "handoff"),
    }
    items = [
        Parsed(Example(text, label), parse(text, ("x", 0.5)), seconds=0.0)
        for text, label in (("a", "x"), ("b", "x"), ("c", "oos"), ("d", "oos"), ("e", "oos"))
    ]

    def judge(result: ParseResult, after_failure: bool) -> str:
        return rules[result.text][1 if after_failure else 0]

    def brute(kind: list[Parsed]) -> int:
        count = 0
        for first in kind:
            for second in kind:
                if first is second:
                    continue
                one = judge(first.result, False)
                two = judge(second.result, one == "clarify")
                count += one == "handoff" or two == "handoff"
        return count

    oos, in_scope = two_turn_handoffs(items, judge)

    assert (oos.handed_off, oos.pairs) == (brute(items[2:]), 6)
    assert (in_scope.handed_off, in_scope.pairs) == (brute(items[:2]), 2)
    assert oos.rate == oos.handed_off / 6
    assert two_turn_handoffs([], judge)[0].rate is None


def test_parses_are_kept_and_read_back(tmp_path: Path) -> None:
    items = [parsed("balance", ("balance", 0.9), ("oos", 0.05)), parsed("oos")]
    path = tmp_path / "parses.jsonl"

    write_parses(items, path)

    assert read_parses(path) == items


def test_a_broken_parses_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "parses.jsonl"
    path.write_text('{"text": "hi"}\n', encoding="utf-8")

    with pytest.raises(BenchmarkDataError, match=r"parses\.jsonl:1: expected a parse"):
        read_parses(path)
