"""Reading one file: its bytes as UTF-8, tabs in the indentation, and the YAML parse.

Parse errors get the line a trainer should look at, which is not always where PyYAML noticed
the problem. A file that parses is handed on to :mod:`.structure`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import yaml
from yaml.nodes import Node

from nlu.validation.file_check import FileCheck
from nlu.validation.nodes import is_null
from nlu.validation.structure import check_document

# The line breaks PyYAML counts when it numbers lines; str.splitlines knows more of them.
_YAML_LINE_BREAK: Final = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")

# A tab in the indentation also breaks the parse or the example lines; the tab error says it.
_CODES_EXPLAINED_BY_TABS: Final = frozenset(
    {"yaml-syntax", "example-not-list-item", "example-blank-line"}
)


def check_file(path: Path) -> FileCheck:
    """Everything one file says on its own; never raises, whatever the file holds."""
    check = FileCheck(path)
    text = _read_text(path, check)
    if text is None:
        check.readable = False
        return check
    tab_lines = _check_tabs(text, check)
    root = _compose(text, check)
    if check.readable:
        if root is None or is_null(root):
            check.warning(1, "empty-file", "the file is empty")
        else:
            check_document(root, check)
    check.problems = [
        problem
        for problem in check.problems
        if not (problem.line in tab_lines and problem.code in _CODES_EXPLAINED_BY_TABS)
    ]
    return check


def _read_text(path: Path, check: FileCheck) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        check.error(0, "unreadable", f"cannot be read: {exc.strerror}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        check.error(
            line,
            "not-utf8",
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded); "
            "save it as UTF-8",
        )
        return None


def _check_tabs(text: str, check: FileCheck) -> set[int]:
    tab_lines: set[int] = set()
    for number, line in enumerate(_YAML_LINE_BREAK.split(text), start=1):
        indentation = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indentation:
            check.error(number, "tab-indent", "tab character in the indentation; YAML needs spaces")
            tab_lines.add(number)
    return tab_lines


def _compose(text: str, check: FileCheck) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = min(_error_line(exc), _last_line(text))
        check.error(line, "yaml-syntax", _parse_error_message(exc, line))
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, int(exc.position)) + 1
        check.error(
            line,
            "yaml-syntax",
            f"could not parse: character #x{int(exc.character):04x} is not allowed in YAML",
        )
    except yaml.YAMLError as exc:
        check.error(1, "yaml-syntax", f"could not parse: {exc}")
    except RecursionError:
        check.error(1, "yaml-syntax", "could not parse: the YAML is nested too deeply")
    check.readable = False
    return None


def _error_line(exc: yaml.MarkedYAMLError) -> int:
    # A line without its ':' is noticed only on the next line; the culprit is where the
    # "simple key" started, which PyYAML gives as the context.
    if exc.context == "while scanning a simple key" and exc.context_mark is not None:
        return exc.context_mark.line + 1
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else 1


def _last_line(text: str) -> int:
    """The number of the last line; an error "at the end of the file" is reported there."""
    lines = _YAML_LINE_BREAK.split(text)
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the empty "line" after the final line break
    return len(lines)


def _parse_error_message(exc: yaml.MarkedYAMLError, line: int) -> str:
    message = f"could not parse: {exc.problem or 'invalid YAML'}"
    if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
        # The context often points at the real culprit, e.g. where an unclosed quote opened.
        message += f" ({exc.context}, line {exc.context_mark.line + 1})"
    return message
