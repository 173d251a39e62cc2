"""The NLU data validator behind ``tandem nlu validate``: one test per rule, exact lines."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from nlu.errors import DataValidationError
from nlu.validation import (
    Problem,
    Severity,
    ValidationReport,
    load_examples,
    normalize_example,
    strip_annotations,
    validate_nlu_data,
)

SHIPPED_DATA = Path(__file__).resolve().parents[2] / "nlu" / "data"
GREET = 'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n'


def write(directory: Path, name: str, text: str) -> Path:
    """Write a snippet; its first line (right after the opening quotes) is line 1."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def validate(*paths: Path, min_examples: int = 1) -> ValidationReport:
    # Most snippets are tiny; the example-count rule has its own tests.
    return validate_nlu_data(list(paths), min_examples=min_examples)


def found(report: ValidationReport, code: str) -> list[tuple[str, int]]:
    """(file name, line) of every problem with this code."""
    return [(p.path.name, p.line) for p in report.problems if p.code == code]


def only(report: ValidationReport, code: str) -> Problem:
    matching = [p for p in report.problems if p.code == code]
    assert len(matching) == 1, report.problems
    return matching[0]


def codes(report: ValidationReport) -> list[str]:
    return [p.code for p in report.problems]


# --- a valid data set ------------------------------------------------------------------------


def write_valid_data(directory: Path) -> None:
    write(
        directory,
        "greetings.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
              - hello there
              - good morning
          - intent: goodbye
            examples: |
              - bye
              - see you later
              - good night
        """,
    )
    write(
        directory,
        "orders/orders.yaml",
        """\
        version: "3.1"
        nlu:
          - intent: order_status
            examples: |
              - where is [ORD-1](order_id)
              - status of [ORD-2]{"entity": "order_id", "role": "lookup"}
              - track [#48213](order_id:ORD-48213) please
          # The same intent in a second place is fine: Rasa merges them.
          - intent: greet
            examples: |
              - hey
          - intent: faq/ask_hours
            metadata: {owner: support}
            examples:
              - text: when are you open
                metadata: {sentiment: neutral}
              - text: what are your opening hours
              - text: |
                  are you open on [Sunday](day)
          - synonym: ORD-48213
            examples: |
              - order 48213
          - regex: order_id
            examples: |
              - ORD-\\d{4,8}
          - lookup: day
            examples: |
              - Monday
              - Sunday
        """,
    )
    write(directory, "README.md", "Not training data: [broken](\n")


def test_a_valid_multi_file_data_set_has_no_problems_and_counts_every_intent(
    tmp_path: Path,
) -> None:
    write_valid_data(tmp_path)

    report = validate_nlu_data([tmp_path], min_examples=3)

    assert report.problems == ()
    assert report.ok
    assert dict(report.intents) == {
        "faq/ask_hours": 3,
        "goodbye": 3,
        "greet": 4,
        "order_status": 3,
    }
    assert report.files == (tmp_path / "greetings.yml", tmp_path / "orders" / "orders.yaml")


def test_load_examples_gives_each_intents_examples_as_written_with_their_lines(
    tmp_path: Path,
) -> None:
    write_valid_data(tmp_path)

    examples = load_examples([tmp_path])

    status = examples["order_status"]
    assert status[0].text == "where is [ORD-1](order_id)"
    assert [e.plain_text for e in status] == [
        "where is ORD-1",
        "status of ORD-2",
        "track #48213 please",
    ]
    assert [e.location.line for e in status] == [5, 6, 7]
    assert [(e.location.path.name, e.location.line) for e in examples["greet"]] == [
        ("greetings.yml", 5),
        ("greetings.yml", 6),
        ("greetings.yml", 7),
        ("orders.yaml", 11),
    ]
    hours = examples["faq/ask_hours"]
    assert [(e.text, e.location.line) for e in hours] == [
        ("when are you open", 15),
        ("what are your opening hours", 17),
        ("are you open on [Sunday](day)", 19),
    ]


# --- YAML itself -----------------------------------------------------------------------------


def test_a_yaml_syntax_error_names_the_line_and_the_parsers_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
          - intent: bye
            examples: this: breaks
        """,
    )

    problem = only(validate(tmp_path), "yaml-syntax")

    assert (problem.line, problem.severity) == (7, Severity.ERROR)
    assert problem.message == "could not parse: mapping values are not allowed here"


def test_a_missing_colon_is_reported_on_its_own_line_not_the_next(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples |
              - hi
        """,
    )

    problem = only(validate(tmp_path), "yaml-syntax")

    assert problem.line == 4
    assert problem.message.startswith("could not parse: could not find expected ':'")


def test_an_unclosed_quote_is_reported_at_the_end_and_says_where_it_opened(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: "greet
            examples: |
              - hi
        """,
    )

    problem = only(validate(tmp_path), "yaml-syntax")

    assert problem.line == 5  # the last line, not one past it
    assert "line 3" in problem.message


def test_tabs_in_the_indentation_are_reported_once_per_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        'version: "3.1"\nnlu:\n  - intent: greet\n\texamples: |\n      - hi\n',
    )

    report = validate(tmp_path)

    # The parse error the tab causes says nothing the tab error does not.
    assert found(report, "tab-indent") == [("greet.yml", 4)]
    assert codes(report) == ["tab-indent"]


def test_a_tab_inside_an_examples_block_is_reported_as_a_tab(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n    \t- ho\n',
    )

    report = validate(tmp_path)

    assert codes(report) == ["tab-indent"]
    assert found(report, "tab-indent") == [("greet.yml", 6)]


def test_a_file_that_is_not_utf8_is_a_problem_on_the_line_of_the_bad_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "greet.yml"
    path.write_bytes(b'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - caf\xe9\n')

    problem = only(validate(tmp_path), "not-utf8")

    assert (problem.line, problem.severity) == (5, Severity.ERROR)
    assert "0xe9" in problem.message


def test_windows_line_endings_keep_the_line_numbers(tmp_path: Path) -> None:
    lines = [
        'version: "3.1"',
        "nlu:",
        "  - intent: greet",
        "    examples: |",
        "      - hi",
        "      hello",
    ]
    (tmp_path / "greet.yml").write_bytes("".join(f"{line}\r\n" for line in lines).encode())

    assert found(validate(tmp_path), "example-not-list-item") == [("greet.yml", 6)]


def test_a_duplicate_key_is_an_error_on_its_second_occurrence(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
            examples: |
              - hello
        """,
    )

    problem = only(validate(tmp_path), "duplicate-key")

    assert problem.line == 6
    assert "first on line 4" in problem.message


def test_a_file_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", "- intent: greet\n")

    assert found(validate(tmp_path), "not-a-mapping") == [("greet.yml", 1)]


# --- keys ------------------------------------------------------------------------------------


def test_unknown_keys_are_errors_that_suggest_the_key_meant(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        vesion: "3.1"
        nlu:
          - intent: greet
            exampels: |
              - hi
          - intnet: bye
            examples: |
              - bye
          - intent: thanks
            colour: red
            examples: |
              - thanks
        """,
    )

    report = validate(tmp_path)

    unknown = [p for p in report.problems if p.code == "unknown-key"]
    assert [(p.line, p.severity) for p in unknown] == [
        (1, Severity.ERROR),
        (4, Severity.ERROR),
        (6, Severity.ERROR),
        (10, Severity.ERROR),
    ]
    assert unknown[0].message == "unknown key 'vesion' at the top level; did you mean 'version'?"
    assert unknown[1].message == "unknown key 'exampels' in an nlu item; did you mean 'examples'?"
    assert unknown[2].message == "unknown key 'intnet' in an nlu item; did you mean 'intent'?"
    assert "expected: intent, synonym, regex, lookup, examples, metadata" in unknown[3].message
    # A misspelling is reported once, not again as a missing 'examples' or 'intent'.
    assert found(report, "examples-missing") == []
    assert found(report, "item-kind-missing") == []


def test_other_rasa_keys_are_accepted_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
        responses:
          utter_greet:
            - text: hello
        stories: []
        """,
    )

    report = validate(tmp_path)

    assert report.ok
    assert found(report, "not-nlu-key") == [("greet.yml", 6), ("greet.yml", 9)]
    assert all(p.severity is Severity.WARNING for p in report.problems)
    assert "'responses' is not used by NLU training" in report.problems[0].message


# --- version ---------------------------------------------------------------------------------


def test_a_missing_version_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", "nlu:\n  - intent: greet\n    examples: |\n      - hi\n")

    report = validate(tmp_path)

    assert report.ok
    assert found(report, "version-missing") == [("greet.yml", 1)]


def test_an_unquoted_version_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", "nlu: []\nversion: 3.1\n")

    problem = only(validate(tmp_path), "version-not-string")

    assert (problem.line, problem.severity) == (2, Severity.ERROR)
    assert 'quoted string such as "3.1"' in problem.message


def test_a_version_other_than_3x_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", 'version: "2.0"\nnlu: []\n')

    problem = only(validate(tmp_path), "version-unsupported")

    assert problem.line == 1


# --- nlu items -------------------------------------------------------------------------------


def test_an_item_needs_exactly_one_of_intent_synonym_regex_lookup(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - examples: |
              - hi
          - intent: greet
            synonym: hello
            examples: |
              - hello
          - just a string
        """,
    )

    report = validate(tmp_path)

    assert found(report, "item-kind-missing") == [("greet.yml", 3)]
    assert found(report, "item-kind-multiple") == [("greet.yml", 6)]
    assert found(report, "item-not-mapping") == [("greet.yml", 9)]


def test_intent_names_allow_one_retrieval_slash_and_no_spaces(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        """\
        version: "3.1"
        nlu:
          - intent: faq/ask_hours
            examples: |
              - when are you open
          - intent: faq/ask/price
            examples: |
              - how much is it
          - intent: ask price
            examples: |
              - what does it cost
          - intent:
            examples: |
              - hm
        """,
    )

    report = validate(tmp_path)

    assert found(report, "intent-name-invalid") == [("faq.yml", 6), ("faq.yml", 9)]
    assert found(report, "name-empty") == [("faq.yml", 12)]


def test_missing_and_empty_examples_are_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
          - intent: bye
            examples:
          - intent: thanks
            examples: ""
          - synonym: hello
          - lookup: city
            examples: |

          - regex: order_id
        """,
    )

    report = validate(tmp_path)

    assert found(report, "examples-missing") == [
        ("greet.yml", 3),
        ("greet.yml", 8),
        ("greet.yml", 12),
    ]
    assert found(report, "examples-empty") == [
        ("greet.yml", 5),
        ("greet.yml", 7),
        ("greet.yml", 10),
    ]


def test_examples_must_be_a_literal_block_or_a_list_of_text_entries(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples:
              - hi
              - hello
          - intent: bye
            examples: >
              - bye
              - see you
          - intent: thanks
            examples: "- thanks"
          - lookup: city
            examples:
              - text: Paris
          - intent: ok
            examples: {text: ok}
        """,
    )

    report = validate(tmp_path)

    # A list is reported once, at its first entry.
    assert found(report, "examples-not-block") == [
        ("greet.yml", 5),
        ("greet.yml", 8),
        ("greet.yml", 12),
        ("greet.yml", 15),
        ("greet.yml", 17),
    ]


def test_list_form_examples_report_their_own_mistakes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples:
              - text: hi
              - txt: hello
              - metadata: {a: 1}
              - text: ""
        """,
    )

    report = validate(tmp_path)

    assert found(report, "unknown-key") == [("greet.yml", 6)]
    assert found(report, "example-empty") == [("greet.yml", 7), ("greet.yml", 8)]
    assert report.intents["greet"] == 1


def test_metadata_is_allowed_on_intent_items_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - lookup: city
            metadata: {a: 1}
            examples: |
              - Paris
        """,
    )

    assert found(validate(tmp_path), "unknown-key") == [("greet.yml", 4)]


# --- example lines ---------------------------------------------------------------------------


def test_example_lines_must_start_with_a_dash_and_a_space(tmp_path: Path) -> None:
    write(
        tmp_path,
        "greet.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
              hello
              -hey
              # morning greetings
                - good morning
              -
              - yo

              - howdy
        """,
    )

    report = validate(tmp_path)

    assert found(report, "example-not-list-item") == [
        ("greet.yml", 6),
        ("greet.yml", 7),
        ("greet.yml", 8),
        ("greet.yml", 9),
    ]
    assert found(report, "example-empty") == [("greet.yml", 10)]
    assert found(report, "example-blank-line") == [("greet.yml", 12)]
    assert only(report, "example-blank-line").severity is Severity.WARNING
    messages = [p.message for p in report.problems if p.code == "example-not-list-item"]
    assert "put a space after '-'" in messages[1]
    assert "comment" in messages[2]
    assert "indented differently" in messages[3]
    assert report.intents["greet"] == 3  # hi, yo, howdy


# --- entity annotations ----------------------------------------------------------------------


def test_malformed_entity_annotations_are_errors_on_their_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.yml",
        """\
        version: "3.1"
        nlu:
          - intent: order_status
            examples: |
              - where is [ORD-1](order_id)
              - where is [ORD-2 now
              - where is ORD-3] now
              - where is [ORD-4] now
              - where is [ORD-5] (order_id)
              - where is [ORD-6]{"entity": order_id}
              - where is [ORD-7]{"value": "ORD-7"}
              - where is [ORD-8](order_id
              - where is [ORD-9]()
              - where is [ORD-10]{"entity": "order_id", "rol": "x"}
              - where is [ORD-11](order_id:ORD-11)
              - where is [ORD-12][{"entity": "order_id"}, {"entity": "ref"}]
        """,
    )

    report = validate(tmp_path)

    assert found(report, "annotation-unbalanced") == [
        ("orders.yml", 6),
        ("orders.yml", 7),
        ("orders.yml", 12),
    ]
    assert found(report, "annotation-no-entity") == [
        ("orders.yml", 8),
        ("orders.yml", 9),
        ("orders.yml", 11),
        ("orders.yml", 13),
    ]
    assert found(report, "annotation-json") == [("orders.yml", 10)]
    assert found(report, "annotation-invalid") == [("orders.yml", 14)]
    assert "did you mean 'role'?" in only(report, "annotation-invalid").message
    spaced = [p.message for p in report.problems if p.line == 9]
    assert spaced == [
        "[ORD-5] has no entity; write [ORD-5](entity_name) (no space between ']' and '(')"
    ]


def test_annotations_are_not_checked_in_regex_lookup_or_synonym_items(tmp_path: Path) -> None:
    write(
        tmp_path,
        "regex.yml",
        """\
        version: "3.1"
        nlu:
          - regex: account
            examples: |
              - [A-Z]{2}\\d+
          - lookup: code
            examples: |
              - [x]
          - synonym: x
            examples: |
              - [y
        """,
    )

    assert validate(tmp_path).problems == ()


def test_strip_annotations_keeps_the_annotated_text() -> None:
    assert strip_annotations("where is [ORD-1](order_id)") == "where is ORD-1"
    assert strip_annotations('fly to [LA]{"entity": "city", "value": "Los Angeles"}') == "fly to LA"
    assert strip_annotations('[#5](order_id:ORD-5) and [x][{"entity": "a"}]') == "#5 and x"
    assert strip_annotations("no annotation [here") == "no annotation [here"


# --- regexes ---------------------------------------------------------------------------------


def test_a_regex_that_python_cannot_compile_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "regex.yml",
        """\
        version: "3.1"
        nlu:
          - regex: order_id
            examples: |
              - ORD-\\d{4,8}
              - ORD-([0-9]+
        """,
    )

    problem = only(validate(tmp_path), "regex-invalid")

    assert (problem.line, problem.severity) == (6, Severity.ERROR)
    assert "missing )" in problem.message


# --- counts and duplicates across files ------------------------------------------------------


def test_an_intent_with_too_few_examples_is_an_error_at_its_first_declaration(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "a.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
              - hello
          - intent: bye
            examples: |
              - bye
        """,
    )
    write(
        tmp_path,
        "b.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hey
              - Hey!
        """,
    )

    report = validate_nlu_data([tmp_path], min_examples=3)

    # greet: hi, hello, hey across both files ("Hey!" is "hey" again) -> enough.
    assert report.intents == {"bye": 1, "greet": 3}
    problem = only(report, "too-few-examples")
    assert (problem.path.name, problem.line, problem.severity) == ("a.yml", 7, Severity.ERROR)
    assert problem.message == (
        "intent 'bye' has 1 distinct example(s) in all files; it needs at least 3"
    )
    assert validate_nlu_data([tmp_path], min_examples=4).errors[0].line == 3  # greet, too
    assert validate_nlu_data([tmp_path], min_examples=1).ok


def test_the_default_minimum_is_ten_examples(tmp_path: Path) -> None:
    lines = "".join(f"      - example number {n}\n" for n in range(9))
    write(tmp_path, "a.yml", f'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n{lines}')

    report = validate_nlu_data([tmp_path])

    assert found(report, "too-few-examples") == [("a.yml", 3)]
    assert "has 9 distinct example(s)" in report.errors[0].message


def test_the_same_example_under_two_intents_in_two_files_is_an_error_naming_both(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "account.yml",
        """\
        version: "3.1"
        nlu:
          - intent: check_balance
            examples: |
              - what is my balance
        """,
    )
    write(
        tmp_path,
        "billing.yml",
        """\
        version: "3.1"
        nlu:
          - intent: billing_question
            examples: |
              - how do I pay
              - What is my  balance?
        """,
    )

    problem = only(validate(tmp_path), "example-conflict")

    assert (problem.path.name, problem.line, problem.severity) == (
        "billing.yml",
        6,
        Severity.ERROR,
    )
    assert "'billing_question' (billing.yml:6)" in problem.message
    assert "'check_balance' (account.yml:5: 'what is my balance')" in problem.message


def test_an_annotated_example_equals_its_plain_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.yml",
        """\
        version: "3.1"
        nlu:
          - intent: order_status
            examples: |
              - where is [ORD-1](order_id)
          - intent: complaint
            examples: |
              - Where is ORD-1?!
        """,
    )

    problem = only(validate(tmp_path), "example-conflict")

    assert problem.line == 8
    assert "'order_status' (orders.yml:5: 'where is [ORD-1](order_id)')" in problem.message


def test_normalization_strips_annotations_case_whitespace_and_end_punctuation() -> None:
    assert normalize_example("where is [ORD-1](order_id)") == normalize_example("where is ORD-1")
    assert normalize_example("  Where   IS\tORD-1 ?!. ") == "where is ord-1"
    assert normalize_example("what?! no") == "what?! no"  # only the end is trimmed


def test_a_repeated_example_within_one_intent_is_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hi
        """,
    )
    write(
        tmp_path,
        "b.yml",
        """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - Hi!
        """,
    )

    report = validate(tmp_path)

    assert report.ok
    problem = only(report, "example-duplicate")
    assert (problem.path.name, problem.line, problem.severity) == ("b.yml", 5, Severity.WARNING)
    assert "a.yml:5" in problem.message
    assert report.intents == {"greet": 1}


# --- files and directories -------------------------------------------------------------------


def test_files_that_are_not_yaml_or_are_hidden_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", GREET)
    write(tmp_path, "notes.txt", "nlu: [\n")
    write(tmp_path, ".#greet.yml", "nlu: [\n")

    report = validate(tmp_path)

    assert report.problems == ()
    assert report.files == (tmp_path / "greet.yml",)


def test_an_empty_file_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "greet.yml", GREET)
    write(tmp_path, "empty.yml", "# nothing yet\n")

    report = validate(tmp_path)

    assert report.ok
    assert found(report, "empty-file") == [("empty.yml", 1)]


def test_a_directory_without_nlu_data_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    stories = tmp_path / "stories"
    write(stories, "stories.yml", 'version: "3.1"\nstories: []\n')

    report = validate(empty, stories)

    assert [(p.path, p.line, p.code) for p in report.errors] == [
        (empty, 0, "no-nlu-data"),
        (stories, 0, "no-nlu-data"),
    ]


def test_a_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    report = validate(missing)

    assert [(p.path, p.line, p.code) for p in report.problems] == [(missing, 0, "missing-path")]


def test_a_file_named_twice_is_checked_once(tmp_path: Path) -> None:
    path = write(tmp_path, "greet.yml", GREET)

    report = validate(tmp_path, path)

    assert report.files == (path,)
    assert report.problems == ()


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02",
        b"nlu: 5\n",
        b"nlu:\n  - 5\n  - [a, b]\n  - {intent: [x], examples: 3}\n",
        b"[[[[[[[[[[[[[[[[[[[[\n",
        b"{" * 5000,
        b"a: 1\n---\nb: 2\n",
        b"? [complex, key]\n: value\n",
        b'nlu:\n  - intent: x\n    examples: |\n      - [a]{"entity": [[[[[[}\n',
        b"nlu:\n  - regex: x\n    examples: |\n      - a{99999999999999999999}\n",
        b"nlu:\n  - intent: x\n    examples:\n      - text: [1]\n      - 7\n",
        "nlu:\n  - intent: \u2028x\n".encode(),
    ],
)
def test_bad_input_never_raises(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "bad.yml").write_bytes(content)

    report = validate(tmp_path)

    assert not report.ok


# --- the API ---------------------------------------------------------------------------------


def test_problem_format_is_compiler_style_with_an_optional_root(tmp_path: Path) -> None:
    problem = Problem(tmp_path / "nlu" / "billing.yml", 12, Severity.ERROR, "x-code", "bad thing")

    assert problem.format(tmp_path) == "nlu/billing.yml:12: error: bad thing [x-code]"
    assert problem.format() == f"{tmp_path}/nlu/billing.yml:12: error: bad thing [x-code]"
    assert problem.format(Path("/elsewhere")) == problem.format()
    whole = Problem(tmp_path / "nlu", 0, Severity.WARNING, "y", "whole directory")
    assert whole.format(tmp_path) == "nlu: warning: whole directory [y]"


def test_problems_are_sorted_and_split_into_errors_and_warnings(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", "nlu:\n  - intent: greet\n    examples: |\n      - hi\n")
    write(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n  - intent: bye\n')

    report = validate(tmp_path)

    assert [(p.path.name, p.line) for p in report.problems] == [
        ("a.yml", 3),
        ("a.yml", 3),
        ("b.yml", 1),
    ]
    assert [p.code for p in report.errors] == ["examples-missing", "too-few-examples"]
    assert [p.code for p in report.warnings] == ["version-missing"]
    assert not report.ok


def test_raise_for_errors_raises_the_typed_error_listing_them(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", 'version: "3.1"\nnlu:\n  - intent: bye\n')
    report = validate(tmp_path)

    with pytest.raises(DataValidationError, match=r"a\.yml:3: error: intent 'bye' has no"):
        report.raise_for_errors(root=tmp_path)


def test_programmer_errors_raise() -> None:
    with pytest.raises(TypeError):
        validate_nlu_data("nlu/data")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        validate_nlu_data([])
    with pytest.raises(ValueError, match="min_examples"):
        validate_nlu_data([Path()], min_examples=-1)


# --- the shipped data ------------------------------------------------------------------------


def test_the_shipped_training_data_has_no_errors() -> None:
    if not SHIPPED_DATA.is_dir():
        pytest.fail(f"the shipped NLU data directory {SHIPPED_DATA} does not exist")

    report = validate_nlu_data([SHIPPED_DATA])

    root = SHIPPED_DATA.parents[1]
    assert report.errors == (), "\n".join(p.format(root) for p in report.errors)
    assert report.intents, "the shipped NLU data declares no intents"
