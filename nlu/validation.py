"""Checks the trainers' Rasa 3.x NLU training data (``nlu/data/*.yml``) before Rasa sees it.

Rasa reports most data mistakes as warnings buried in the training log, or quietly skips the
broken block and trains a worse model. This module finds those mistakes up front, each with a
file and a 1-based line, so ``tandem nlu validate`` can point a trainer at the exact spot.

It runs in the service's own Python: the YAML is read with PyYAML's composer (nodes keep their
line numbers) and nothing here imports rasa. Bad input never raises; every finding becomes a
:class:`Problem`. Only programmer errors (wrong argument types or values) raise.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.errors import DataValidationError

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

DEFAULT_MIN_EXAMPLES: Final = 10

# Rasa reads only these suffixes, and compares them case-sensitively.
_YAML_SUFFIXES: Final = frozenset({".yml", ".yaml"})

_KINDS: Final = ("intent", "synonym", "regex", "lookup")
_ITEM_KEYS: Final = (*_KINDS, "examples", "metadata")
_EXAMPLE_ENTRY_KEYS: Final = ("text", "metadata")
# Keys a Rasa training file may carry that NLU training does not read: accepted with a warning.
_OTHER_RASA_KEYS: Final = (
    "stories",
    "rules",
    "responses",
    "intents",
    "entities",
    "slots",
    "forms",
    "actions",
    "e2e_actions",
    "session_config",
    "retrieval_intents",
)
_TOP_LEVEL_KEYS: Final = ("version", "nlu", *_OTHER_RASA_KEYS)
_ENTITY_DICT_KEYS: Final = ("entity", "value", "role", "group")

_VERSION_3: Final = re.compile(r"3\.\d+")
# Plain words, or one '/' for a retrieval intent such as ``faq/ask_hours``.
_INTENT_NAME: Final = re.compile(r"[^\s/]+(/[^\s/]+)?")
# The line breaks PyYAML counts when it numbers lines; str.splitlines knows more of them.
_YAML_LINE_BREAK: Final = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")

# Rasa reads YAML 1.2 (ruamel), where only these plain scalars are not strings. PyYAML speaks
# YAML 1.1 and would, for instance, call ``intent: yes`` a boolean that Rasa reads as "yes".
_YAML12_NULL: Final = re.compile(r"~|null|Null|NULL|")
_YAML12_BOOL: Final = re.compile(r"true|True|TRUE|false|False|FALSE")
_YAML12_NUMBER: Final = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


class Severity(StrEnum):
    """How bad a problem is: errors stop training, warnings are worth a look."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in the training data.

    ``line`` is 1-based; it is 0 when the problem concerns a whole path (a directory, a file
    that cannot be read) rather than a line in it.
    """

    path: Path
    line: int
    severity: Severity
    code: str
    message: str

    def format(self, root: Path | None = None) -> str:
        """``nlu/data/billing.yml:12: error: ... [code]``, the path relative to ``root``."""
        shown = _display_path(self.path, root)
        where = f"{shown}:{self.line}" if self.line > 0 else str(shown)
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class Location:
    """A line in a training data file."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Example:
    """One training example of an intent, as written (entity annotations included)."""

    intent: str
    text: str
    location: Location

    @property
    def plain_text(self) -> str:
        """The text a user would type: annotations replaced by the text they annotate."""
        return strip_annotations(self.text)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything :func:`validate_nlu_data` found, sorted by file and line."""

    problems: tuple[Problem, ...]
    # Intent -> number of distinct examples (duplicates, after normalization, count once).
    intents: Mapping[str, int]
    files: tuple[Path, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """True when there are no errors; warnings do not block training."""
        return not self.errors

    def raise_for_errors(self, *, root: Path | None = None) -> None:
        """Raise :class:`~nlu.errors.DataValidationError` listing the errors, if there are any."""
        errors = self.errors
        if errors:
            listing = "\n".join(problem.format(root) for problem in errors)
            raise DataValidationError(
                f"the NLU training data has {len(errors)} error(s):\n{listing}"
            )


def validate_nlu_data(
    paths: Sequence[Path], *, min_examples: int = DEFAULT_MIN_EXAMPLES
) -> ValidationReport:
    """Check NLU training files and directories (searched recursively, in sorted order).

    Files that do not end in ``.yml``/``.yaml`` are ignored, as Rasa ignores them. An intent
    with fewer than ``min_examples`` distinct examples, counted across all files, is an error;
    ``min_examples=0`` turns that check off.
    """
    _check_paths_argument(paths)
    if min_examples < 0:
        raise ValueError(f"min_examples must be 0 or more, not {min_examples}")
    inputs = _collect_files(paths)
    checks = [_check_file(path) for path in inputs.files]
    problems = list(inputs.problems)
    for check in checks:
        problems.extend(check.problems)
    problems.extend(_check_directories(inputs.directories, checks))
    examples = [example for check in checks for example in check.examples]
    problems.extend(_check_duplicates(examples, _labels(inputs.bases, inputs.files)))
    counts = _count_examples(checks)
    unreadable = sum(1 for check in checks if not check.readable)
    problems.extend(_check_counts(checks, counts, min_examples=min_examples, unreadable=unreadable))
    problems.sort(key=lambda problem: (problem.path, problem.line))
    return ValidationReport(
        problems=tuple(problems),
        intents=MappingProxyType(dict(sorted(counts.items()))),
        files=tuple(inputs.files),
    )


def load_examples(paths: Sequence[Path]) -> dict[str, list[Example]]:
    """Every intent's examples as written, in file and line order, with where they are.

    Reads what can be read and skips the rest silently: run :func:`validate_nlu_data` first to
    learn what was skipped.
    """
    _check_paths_argument(paths)
    by_intent: dict[str, list[Example]] = {}
    for path in _collect_files(paths).files:
        for example in _check_file(path).examples:
            by_intent.setdefault(example.intent, []).append(example)
    return by_intent


def strip_annotations(text: str) -> str:
    """Replace entity annotations by the text they annotate: ``[ORD-1](order_id)`` -> ``ORD-1``."""
    plain, _ = _parse_annotations(text)
    return plain


def normalize_example(text: str) -> str:
    """The form two examples must share to count as the same sentence.

    Annotations are stripped to their text, case is folded, runs of whitespace become one
    space and trailing ``.``, ``!`` and ``?`` go: "Where is [ORD-1](order_id)?" and
    "where is  ORD-1" teach the model the same thing.
    """
    return " ".join(strip_annotations(text).casefold().split()).rstrip(".!? ")


# --- arguments and files ---------------------------------------------------------------------


def _check_paths_argument(paths: Sequence[Path]) -> None:
    # A single str is a Sequence too, and would be read one character at a time.
    if isinstance(paths, str | bytes | os.PathLike):
        raise TypeError("paths must be a sequence of paths, for example [Path('nlu/data')]")
    if not paths:
        raise ValueError("paths must name at least one file or directory")


@dataclass(slots=True)
class _Inputs:
    """What the given paths amount to."""

    files: list[Path] = field(default_factory=list)  # YAML files to check, each once, in order
    problems: list[Problem] = field(default_factory=list)
    directories: dict[Path, list[Path]] = field(default_factory=dict)  # given dir -> its files
    bases: list[Path] = field(default_factory=list)  # given dirs, and the folders of given files


def _collect_files(paths: Sequence[Path]) -> _Inputs:
    inputs = _Inputs()
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            inputs.problems.append(_error(path, 0, "missing-path", "no such file or directory"))
            continue
        except OSError as exc:  # no permission, a symlink loop, ...
            inputs.problems.append(_error(path, 0, "unreadable", f"cannot be read: {exc}"))
            continue
        if stat.S_ISDIR(mode):
            found = _yaml_files_under(path, inputs.problems)
            inputs.directories[path] = found
            inputs.bases.append(path)
        elif stat.S_ISREG(mode) and path.suffix in _YAML_SUFFIXES:
            found = [path]
            inputs.bases.append(path.parent)
        else:
            inputs.problems.append(_warning(path, 0, "not-yaml", _NOT_YAML_MESSAGE))
            continue
        for file in found:
            if _identity(file) not in seen:
                seen.add(_identity(file))
                inputs.files.append(file)
    return inputs


_NOT_YAML_MESSAGE: Final = "ignored: Rasa reads only files ending in .yml or .yaml"


def _identity(path: Path) -> Path:
    """The same file reached by two routes (a folder and a file in it) gets checked once."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop; stat already said so
        return path.absolute()


def _yaml_files_under(directory: Path, problems: list[Problem]) -> list[Path]:
    found: list[Path] = []

    def report(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else directory
        problems.append(_error(where, 0, "unreadable", f"cannot be read: {exc.strerror}"))

    for root, dirnames, filenames in os.walk(directory, onerror=report):
        # Hidden entries are editor swap files, lock files and VCS folders, never training data.
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in filenames:
            path = Path(root) / name
            if name.startswith(".") or not path.is_file():  # a FIFO would block the read
                continue
            if path.suffix in _YAML_SUFFIXES:
                found.append(path)
            elif path.suffix.lower() in _YAML_SUFFIXES:
                # ``billing.YML`` looks like data, but Rasa would skip it without a word.
                problems.append(_warning(path, 0, "not-yaml", _NOT_YAML_MESSAGE))
    return sorted(found)


def _labels(bases: Sequence[Path], files: Sequence[Path]) -> dict[Path, str]:
    """How messages name files: relative to the folder the given paths share.

    The CLI passes absolute paths; "billing.yml:12" reads better than the whole path.
    """
    try:
        common = Path(os.path.commonpath([_identity(base) for base in bases]))
    except ValueError:  # nothing given exists, or nothing in common (different drives)
        return {}
    labels: dict[Path, str] = {}
    for file in files:
        try:
            labels[file] = str(_identity(file).relative_to(common))
        except ValueError:  # a symlink out of the tree: its own path says it best
            continue
    return labels


def _check_directories(
    directories: Mapping[Path, list[Path]], checks: Sequence[_FileCheck]
) -> list[Problem]:
    by_identity = {_identity(check.path): check for check in checks}
    problems: list[Problem] = []
    for directory, files in directories.items():
        found = [by_identity[_identity(file)] for file in files]
        if any(check.has_nlu_data for check in found):
            continue
        if not all(check.readable for check in found):
            continue  # a file we could not parse may hold the data; its own error says so
        if files:
            message = "no NLU training data: no file here has items under 'nlu:'"
        else:
            message = "no NLU training data: no .yml or .yaml files here"
        problems.append(_error(directory, 0, "no-nlu-data", message))
    return problems


# --- one file --------------------------------------------------------------------------------


@dataclass(slots=True)
class _FileCheck:
    """What checking one file found: its problems, and what the cross-file checks need."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    declarations: dict[str, int] = field(default_factory=dict)  # intent -> first line here
    has_nlu_data: bool = False
    readable: bool = True  # False when the bytes could not be decoded or the YAML parsed

    def error(self, line: int, code: str, message: str) -> None:
        self.problems.append(_error(self.path, line, code, message))

    def warning(self, line: int, code: str, message: str) -> None:
        self.problems.append(_warning(self.path, line, code, message))

    def declare(self, intent: str, line: int) -> None:
        self.declarations.setdefault(intent, line)


# A tab in the indentation also breaks the parse or the example lines; the tab error says it.
_CODES_EXPLAINED_BY_TABS: Final = frozenset(
    {"yaml-syntax", "example-not-list-item", "example-blank-line"}
)


def _check_file(path: Path) -> _FileCheck:
    check = _FileCheck(path)
    text = _read_text(path, check)
    if text is None:
        check.readable = False
        return check
    tab_lines = _check_tabs(text, check)
    root = _compose(text, check)
    if check.readable:
        if root is None or _is_null(root):
            check.warning(1, "empty-file", "the file is empty")
        else:
            _check_document(root, check)
    check.problems = [
        problem
        for problem in check.problems
        if not (problem.line in tab_lines and problem.code in _CODES_EXPLAINED_BY_TABS)
    ]
    return check


def _read_text(path: Path, check: _FileCheck) -> str | None:
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


def _check_tabs(text: str, check: _FileCheck) -> set[int]:
    tab_lines: set[int] = set()
    for number, line in enumerate(_YAML_LINE_BREAK.split(text), start=1):
        indentation = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indentation:
            check.error(number, "tab-indent", "tab character in the indentation; YAML needs spaces")
            tab_lines.add(number)
    return tab_lines


def _compose(text: str, check: _FileCheck) -> Node | None:
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


# --- document structure ----------------------------------------------------------------------


def _check_document(root: Node, check: _FileCheck) -> None:
    if not isinstance(root, MappingNode):
        check.error(
            _line(root),
            "not-a-mapping",
            f"the file must be a mapping with 'version' and 'nlu' keys, not {_describe(root)}",
        )
        return
    entries = _mapping_entries(root, check)
    if "version" not in {key for key, _, _ in entries}:
        check.warning(1, "version-missing", 'no version; add version: "3.1" at the top')
    for key, key_node, value in entries:
        if key == "version":
            _check_version(value, check)
        elif key == "nlu":
            _check_nlu(value, check)
        elif key in _OTHER_RASA_KEYS:
            check.warning(_line(key_node), "not-nlu-key", f"'{key}' is not used by NLU training")
        else:
            _report_unknown_key(key, key_node, _TOP_LEVEL_KEYS, "at the top level", check)


def _mapping_entries(node: MappingNode, check: _FileCheck) -> list[tuple[str, Node, Node]]:
    """The mapping's (key, key node, value node), reporting odd and repeated keys."""
    entries: list[tuple[str, Node, Node]] = []
    first_lines: dict[str, int] = {}
    pairs: list[tuple[Node, Node]] = node.value
    for key_node, value in pairs:
        if not isinstance(key_node, ScalarNode):
            check.error(
                _line(key_node), "bad-key", f"a key must be a name, not {_describe(key_node)}"
            )
            continue
        key = str(key_node.value)
        if key in first_lines:
            # Rasa's YAML reader refuses the whole file over a repeated key.
            check.error(
                _line(key_node),
                "duplicate-key",
                f"'{key}' appears twice in the same mapping (first on line {first_lines[key]})",
            )
            continue
        first_lines[key] = _line(key_node)
        entries.append((key, key_node, value))
    return entries


def _report_unknown_key(
    key: str, key_node: Node, allowed: Sequence[str], where: str, check: _FileCheck
) -> str | None:
    """Report ``key`` as unknown; return the allowed key it most likely misspells, if any."""
    matches = difflib.get_close_matches(key.casefold(), allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{matches[0]}'?" if matches else f"expected: {', '.join(allowed)}"
    check.error(_line(key_node), "unknown-key", f"unknown key '{key}' {where}; {hint}")
    return matches[0] if matches else None


def _check_version(node: Node, check: _FileCheck) -> None:
    if not isinstance(node, ScalarNode) or _scalar_kind(node) != "string":
        check.error(
            _line(node),
            "version-not-string",
            f'version must be a quoted string such as "3.1", not {_describe(node)}',
        )
    elif not _VERSION_3.fullmatch(str(node.value).strip()):
        check.error(
            _line(node),
            "version-unsupported",
            f'version "{node.value}" is not a Rasa 3.x format; use "3.1"',
        )


def _check_nlu(node: Node, check: _FileCheck) -> None:
    if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
        check.warning(_line(node), "nlu-empty", "'nlu' has no items")
        return
    if not isinstance(node, SequenceNode):
        check.error(
            _line(node),
            "nlu-not-list",
            f"'nlu' must be a list of '- intent: ...' items, not {_describe(node)}",
        )
        return
    items: list[Node] = node.value
    for item in items:
        _check_item(item, check)


def _check_item(node: Node, check: _FileCheck) -> None:
    if not isinstance(node, MappingNode):
        check.error(
            _line(node),
            "item-not-mapping",
            "each nlu item must be a mapping such as '- intent: greet' with 'examples: |', "
            f"not {_describe(node)}",
        )
        return
    check.has_nlu_data = True
    entries = {key: (key_node, value) for key, key_node, value in _mapping_entries(node, check)}
    suggested = {
        _report_unknown_key(key, key_node, _ITEM_KEYS, "in an nlu item", check)
        for key, (key_node, _) in entries.items()
        if key not in _ITEM_KEYS
    }
    kinds = [key for key in entries if key in _KINDS]
    if not kinds:
        # ``intnet: greet`` is already reported as a misspelling; saying "no intent" adds nothing.
        if not suggested.intersection(_KINDS):
            check.error(
                _line(node),
                "item-kind-missing",
                "this nlu item has none of 'intent', 'synonym', 'regex', 'lookup'",
            )
        return
    if len(kinds) > 1:
        check.error(
            _line(entries[kinds[1]][0]),
            "item-kind-multiple",
            f"this nlu item has both '{kinds[0]}' and '{kinds[1]}'; give each its own item",
        )
        return
    _check_single_kind_item(kinds[0], entries, "examples" in suggested, check)


def _check_single_kind_item(
    kind: str,
    entries: Mapping[str, tuple[Node, Node]],
    examples_misspelled: bool,
    check: _FileCheck,
) -> None:
    key_node, name_node = entries[kind]
    name = _item_name(kind, name_node, check)
    if "metadata" in entries and kind != "intent":
        check.error(
            _line(entries["metadata"][0]),
            "unknown-key",
            f"'metadata' is allowed on intent items only, not on a {kind}",
        )
    if "examples" not in entries:
        if not examples_misspelled:
            check.error(
                _line(key_node), "examples-missing", f"{kind} '{name or ''}' has no 'examples'"
            )
        texts: list[tuple[str, int]] = []
    else:
        texts = _read_examples(kind, entries["examples"][1], check)
    if kind == "intent":
        for text, line in texts:
            _check_annotations(text, line, check)
        if name is not None:
            check.declare(name, _line(key_node))
            check.examples.extend(
                Example(name, text, Location(check.path, line)) for text, line in texts
            )
    elif kind == "regex":
        for pattern, line in texts:
            _check_pattern(pattern, line, check)


def _item_name(kind: str, node: Node, check: _FileCheck) -> str | None:
    """The item's name, or None (reported) when it has none Rasa would accept."""
    if _is_null(node) or (isinstance(node, ScalarNode) and not str(node.value).strip()):
        check.error(_line(node), "name-empty", f"'{kind}:' needs a name")
        return None
    if not isinstance(node, ScalarNode) or _scalar_kind(node) != "string":
        check.error(
            _line(node),
            "name-not-string",
            f"a {kind} name must be text, not {_describe(node)}; quote it",
        )
        return None
    name = str(node.value)
    if kind == "intent" and not _INTENT_NAME.fullmatch(name):
        check.error(
            _line(node),
            "intent-name-invalid",
            f"intent name '{name}' must have no spaces, and at most one '/' "
            "(retrieval intents, such as 'faq/ask_hours')",
        )
    return name


# --- examples --------------------------------------------------------------------------------


def _read_examples(kind: str, node: Node, check: _FileCheck) -> list[tuple[str, int]]:
    """The item's examples as (text, line); problems with their form are reported."""
    if _is_null(node) or not _has_content(node):
        check.error(_line(node), "examples-empty", f"the examples of {kind} are empty")
        return []
    if isinstance(node, ScalarNode) and _scalar_kind(node) == "string":
        if node.style == "|":
            return _block_examples(node, check)
        if node.style == ">":
            message = "examples must be a literal block 'examples: |'; '>' joins the lines"
        else:
            message = "examples must be a block: write 'examples: |' and one '- ' line each"
        check.error(_line(node), "examples-not-block", message)
        return []
    if isinstance(node, SequenceNode) and kind == "intent":
        return _list_examples(node, check)
    allowed = "a block string 'examples: |'"
    if kind == "intent":
        allowed += " or a list of '- text: ...' entries"
    check.error(
        _line(node), "examples-not-block", f"examples must be {allowed}, not {_describe(node)}"
    )
    return []


def _has_content(node: Node) -> bool:
    if isinstance(node, ScalarNode):
        return bool(str(node.value).strip())
    return bool(node.value)


def _block_examples(node: ScalarNode, check: _FileCheck) -> list[tuple[str, int]]:
    # A literal block's content starts on the line after its '|' (where start_mark is) and
    # keeps every line, leading blank ones included, so line numbers follow by counting.
    first_line = node.start_mark.line + 2
    texts: list[tuple[str, int]] = []
    for line, raw in enumerate(str(node.value).splitlines(), start=first_line):
        example = _example_line(raw, line, check)
        if example is not None:
            texts.append((example, line))
    return texts


def _example_line(raw: str, line: int, check: _FileCheck) -> str | None:
    """The example on one line of an examples block, or None (reported) when there is none."""
    if raw.startswith("- "):
        text = raw[2:].strip()
        if text:
            return text
    stripped = raw.strip()
    if stripped in {"-", ""}:
        if stripped == "-" or raw.startswith("- "):
            check.error(line, "example-empty", "empty example: '-' with nothing after it")
        else:
            # Rasa warns about the blank line and skips it; harmless but noisy in training logs.
            check.warning(line, "example-blank-line", "blank line inside an examples block")
        return None
    if stripped.startswith("#"):
        message = "a comment inside an examples block is read as a broken example; move it out"
    elif stripped.startswith("- ") or stripped == "-":
        message = "this example is indented differently from the first one"
    elif stripped.startswith("-"):
        message = f"put a space after '-': '- {stripped[1:].lstrip()}'"
    else:
        message = f"example lines must start with '- ': '{stripped}'"
    check.error(line, "example-not-list-item", message)
    return None


def _list_examples(node: SequenceNode, check: _FileCheck) -> list[tuple[str, int]]:
    """Examples written as ``- text: ...`` entries, each with optional ``metadata``."""
    texts: list[tuple[str, int]] = []
    reported_plain = False
    entries: list[Node] = node.value
    for entry in entries:
        if not isinstance(entry, MappingNode):
            # A list of plain strings is the usual slip; one error per list says it all.
            if not reported_plain:
                check.error(
                    _line(entry),
                    "examples-not-block",
                    "a list of examples needs '- text: ...' entries; for plain examples "
                    "write 'examples: |' with one '- ' line each",
                )
                reported_plain = True
            continue
        text = _list_example_text(entry, check)
        if text is not None:
            texts.append(text)
    return texts


def _list_example_text(entry: MappingNode, check: _FileCheck) -> tuple[str, int] | None:
    fields = {key: (key_node, value) for key, key_node, value in _mapping_entries(entry, check)}
    suggested = {
        _report_unknown_key(key, key_node, _EXAMPLE_ENTRY_KEYS, "in an example", check)
        for key, (key_node, _) in fields.items()
        if key not in _EXAMPLE_ENTRY_KEYS
    }
    if "text" not in fields:
        if "text" not in suggested:  # ``txt:`` is already reported as a misspelling
            check.error(_line(entry), "example-empty", "example entry without 'text'")
        return None
    value = fields["text"][1]
    if not isinstance(value, ScalarNode) or _scalar_kind(value) not in {"string", "null"}:
        check.error(
            _line(value), "example-not-string", f"'text' must be text, not {_describe(value)}"
        )
        return None
    text = str(value.value).strip()
    if not text:
        check.error(_line(value), "example-empty", "empty example: 'text' has nothing in it")
        return None
    return text, _content_line(value)


def _check_pattern(pattern: str, line: int, check: _FileCheck) -> None:
    # Rasa's regex featurizer and extractor compile these with Python's re, as here.
    with warnings.catch_warnings():
        # re warns about some odd but valid patterns; that is noise on a validator's output.
        warnings.simplefilter("ignore")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            check.error(line, "regex-invalid", f"regex {pattern!r} does not compile: {exc}")


# --- entity annotations ----------------------------------------------------------------------

# (code, message) of one thing wrong with an annotation.
_Issue = tuple[str, str]


def _check_annotations(text: str, line: int, check: _FileCheck) -> None:
    _, issues = _parse_annotations(text)
    for code, message in issues:
        check.error(line, code, message)


def _parse_annotations(text: str) -> tuple[str, list[_Issue]]:
    """The example's plain text, and what is wrong with its entity annotations.

    Follows Rasa's own pattern: ``[text](entity)``, ``[text](entity:value)``,
    ``[text]{"entity": ...}`` and ``[text][{"entity": ...}, ...]``. A ``[`` or ``]`` outside a
    well-formed annotation is reported: Rasa would keep it as literal text, which in training
    data is nearly always a broken annotation.
    """
    plain: list[str] = []
    issues: list[_Issue] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "[":
            index, replacement, issue = _parse_annotation(text, index)
            plain.append(replacement)
            if issue is not None:
                issues.append(issue)
            continue
        if char == "]":
            issues.append(("annotation-unbalanced", f"']' without a matching '[' in '{text}'"))
        plain.append(char)
        index += 1
    return "".join(plain), issues


def _parse_annotation(text: str, start: int) -> tuple[int, str, _Issue | None]:
    """Read the annotation opening at ``text[start] == '['``.

    Returns where scanning continues, what the annotation stands for in the plain text, and
    the problem with it, if any.
    """
    close = text.find("]", start + 1)
    reopen = text.find("[", start + 1)
    if close == -1 or -1 < reopen < close:
        fragment = text[start:close] if close != -1 else text[start:]
        return start + 1, "[", ("annotation-unbalanced", f"'[' is never closed: '{fragment}'")
    entity_text = text[start + 1 : close]
    opener = text[close + 1 : close + 2]
    if opener == "(":
        end, issue = _parse_entity_name(text, close + 1, entity_text)
    elif opener in {"{", "["}:
        end, issue = _parse_entity_json(text, close + 1, entity_text)
    else:
        hint = (
            " (no space between ']' and '(')" if text[close + 1 :].lstrip().startswith("(") else ""
        )
        message = f"[{entity_text}] has no entity; write [{entity_text}](entity_name){hint}"
        return close + 1, text[start : close + 1], ("annotation-no-entity", message)
    if end is None:
        return close + 1, text[start : close + 1], issue
    if issue is None and not entity_text.strip():
        issue = ("annotation-invalid", f"'{text[start:end]}' annotates no text")
    return end, entity_text, issue


def _parse_entity_name(text: str, start: int, entity_text: str) -> tuple[int | None, _Issue | None]:
    """Check ``(entity)`` or ``(entity:value)`` opening at ``text[start] == '('``."""
    close = text.find(")", start)
    if close == -1:
        return None, ("annotation-unbalanced", f"'(' after [{entity_text}] is never closed")
    entity, colon, value = text[start + 1 : close].partition(":")
    written = text[start : close + 1]
    if not entity.strip():
        return close + 1, ("annotation-no-entity", f"[{entity_text}]{written} names no entity")
    if any(char.isspace() for char in entity):
        return close + 1, ("annotation-invalid", f"entity name '{entity}' contains spaces")
    if colon and not value.strip():
        return close + 1, ("annotation-invalid", f"[{entity_text}]{written} has an empty value")
    return close + 1, None


def _parse_entity_json(text: str, start: int, entity_text: str) -> tuple[int | None, _Issue | None]:
    """Check ``{...}`` or ``[{...}, ...]`` opening at ``text[start]``."""
    closer = "}" if text[start] == "{" else "]"
    # Rasa's pattern also stops at the first closing character, strings or not.
    close = text.find(closer, start + 1)
    if close == -1:
        return None, (
            "annotation-unbalanced",
            f"'{text[start]}' after [{entity_text}] is never closed",
        )
    written = text[start : close + 1]
    try:
        data = json.loads(written)
    except json.JSONDecodeError as exc:
        return close + 1, ("annotation-json", f"{written} is not valid JSON: {exc.msg}")
    except (ValueError, RecursionError):
        return close + 1, ("annotation-json", f"{written} is not valid JSON")
    entities = data if isinstance(data, list) else [data]
    if not entities:
        return close + 1, ("annotation-no-entity", f"[{entity_text}]{written} names no entity")
    for entity in entities:
        issue = _entity_dict_issue(entity, written)
        if issue is not None:
            return close + 1, issue
    return close + 1, None


def _entity_dict_issue(entity: object, written: str) -> _Issue | None:
    if not isinstance(entity, dict):
        return ("annotation-json", f"{written}: each entity must be a JSON object")
    for key, value in entity.items():
        if key not in _ENTITY_DICT_KEYS:
            matches = difflib.get_close_matches(str(key), _ENTITY_DICT_KEYS, n=1)
            hint = (
                f"did you mean '{matches[0]}'?"
                if matches
                else "expected entity, value, role, group"
            )
            return ("annotation-invalid", f"unknown key '{key}' in {written}; {hint}")
        if not isinstance(value, str) or not value.strip():
            return ("annotation-invalid", f"'{key}' in {written} must be non-empty text")
    if "entity" not in entity:
        return ("annotation-no-entity", f'{written} has no "entity" key')
    return None


# --- across files ----------------------------------------------------------------------------


def _check_duplicates(examples: Iterable[Example], labels: Mapping[Path, str]) -> list[Problem]:
    """Report examples shared by two intents (errors) or repeated in one intent (warnings)."""

    def where(example: Example) -> str:
        path = example.location.path
        return f"{labels.get(path, str(path))}:{example.location.line}"

    problems: list[Problem] = []
    # normalized text -> intent -> that intent's first example with this text
    first_seen: dict[str, dict[str, Example]] = {}
    for example in examples:
        by_intent = first_seen.setdefault(normalize_example(example.text), {})
        here = example.location
        earlier = by_intent.get(example.intent)
        if earlier is not None:
            message = (
                f"'{example.text}' is already an example of '{example.intent}' ({where(earlier)})"
            )
            problems.append(_warning(here.path, here.line, "example-duplicate", message))
            continue
        if by_intent:
            others = " and ".join(
                f"'{other.intent}' ({where(other)}"
                + (f": '{other.text}')" if other.text != example.text else ")")
                for other in by_intent.values()
            )
            message = (
                f"'{example.text}' is an example of '{example.intent}' ({where(example)}) "
                f"and also of {others}; one sentence can teach only one intent"
            )
            problems.append(_error(here.path, here.line, "example-conflict", message))
        by_intent[example.intent] = example
    return problems


def _count_examples(checks: Iterable[_FileCheck]) -> dict[str, int]:
    distinct: dict[str, set[str]] = {}
    for check in checks:
        for intent in check.declarations:
            distinct.setdefault(intent, set())
        for example in check.examples:
            distinct[example.intent].add(normalize_example(example.text))
    return {intent: len(texts) for intent, texts in distinct.items()}


def _check_counts(
    checks: Sequence[_FileCheck], counts: Mapping[str, int], *, min_examples: int, unreadable: int
) -> list[Problem]:
    first_declared: dict[str, Location] = {}
    for check in checks:
        for intent, line in check.declarations.items():
            first_declared.setdefault(intent, Location(check.path, line))
    note = f" (not counting {unreadable} file(s) that could not be read)" if unreadable else ""
    problems: list[Problem] = []
    for intent, location in first_declared.items():
        count = counts[intent]
        if count < min_examples:
            problems.append(
                _error(
                    location.path,
                    location.line,
                    "too-few-examples",
                    f"intent '{intent}' has {count} distinct example(s) in all files; "
                    f"it needs at least {min_examples}{note}",
                )
            )
    return problems


# --- small helpers ---------------------------------------------------------------------------


def _error(path: Path, line: int, code: str, message: str) -> Problem:
    return Problem(path, line, Severity.ERROR, code, message)


def _warning(path: Path, line: int, code: str, message: str) -> Problem:
    return Problem(path, line, Severity.WARNING, code, message)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _content_line(node: ScalarNode) -> int:
    # A block scalar's text starts on the line after its '|' or '>' indicator.
    return _line(node) + 1 if node.style in {"|", ">"} else _line(node)


def _scalar_kind(node: ScalarNode) -> str:
    """What Rasa's YAML 1.2 reader makes of a scalar: "null", "boolean", "number" or "string"."""
    if node.style:  # quoted and block scalars are always strings
        return "string"
    value = str(node.value)
    if _YAML12_NULL.fullmatch(value):
        return "null"
    if _YAML12_BOOL.fullmatch(value):
        return "boolean"
    if _YAML12_NUMBER.fullmatch(value):
        return "number"
    return "string"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and _scalar_kind(node) == "null"


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        kind = _scalar_kind(node)
        if kind == "null":
            return "nothing"
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} ({node.value})"
    return "an unexpected YAML node"


def _display_path(path: Path, root: Path | None) -> Path:
    if root is None:
        return path
    for candidate, base in ((path, root), (path.resolve(), root.resolve())):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return path
