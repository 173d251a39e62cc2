"""An nlu item's ``examples``: a literal block of ``- `` lines, or a list of ``text:`` entries.

Each example comes back as (text, line) so later checks and messages can point at its line.
"""

from __future__ import annotations

from typing import Final

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.validation.file_check import FileCheck
from nlu.validation.keys import mapping_entries, report_unknown_key
from nlu.validation.nodes import content_line, describe, is_null, line_of, scalar_kind

_EXAMPLE_ENTRY_KEYS: Final = ("text", "metadata")


def read_examples(kind: str, node: Node, check: FileCheck) -> list[tuple[str, int]]:
    """The item's examples as (text, line); problems with their form are reported."""
    if is_null(node) or not _has_content(node):
        check.error(line_of(node), "examples-empty", f"the examples of {kind} are empty")
        return []
    if isinstance(node, ScalarNode) and scalar_kind(node) == "string":
        if node.style == "|":
            return _block_examples(node, check)
        if node.style == ">":
            message = "examples must be a literal block 'examples: |'; '>' joins the lines"
        else:
            message = "examples must be a block: write 'examples: |' and one '- ' line each"
        check.error(line_of(node), "examples-not-block", message)
        return []
    if isinstance(node, SequenceNode) and kind == "intent":
        return _list_examples(node, check)
    allowed = "a block string 'examples: |'"
    if kind == "intent":
        allowed += " or a list of '- text: ...' entries"
    check.error(
        line_of(node), "examples-not-block", f"examples must be {allowed}, not {describe(node)}"
    )
    return []


def _has_content(node: Node) -> bool:
    if isinstance(node, ScalarNode):
        return bool(str(node.value).strip())
    return bool(node.value)


def _block_examples(node: ScalarNode, check: FileCheck) -> list[tuple[str, int]]:
    # A literal block's content starts on the line after its '|' (where start_mark is) and
    # keeps every line, leading blank ones included, so line numbers follow by counting.
    first_line = node.start_mark.line + 2
    texts: list[tuple[str, int]] = []
    for line, raw in enumerate(str(node.value).splitlines(), start=first_line):
        example = _example_line(raw, line, check)
        if example is not None:
            texts.append((example, line))
    return texts


def _example_line(raw: str, line: int, check: FileCheck) -> str | None:
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


def _list_examples(node: SequenceNode, check: FileCheck) -> list[tuple[str, int]]:
    """Examples written as ``- text: ...`` entries, each with optional ``metadata``."""
    texts: list[tuple[str, int]] = []
    reported_plain = False
    entries: list[Node] = node.value
    for entry in entries:
        if not isinstance(entry, MappingNode):
            # A list of plain strings is the usual slip; one error per list says it all.
            if not reported_plain:
                check.error(
                    line_of(entry),
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


def _list_example_text(entry: MappingNode, check: FileCheck) -> tuple[str, int] | None:
    fields = {key: (key_node, value) for key, key_node, value in mapping_entries(entry, check)}
    suggested = {
        report_unknown_key(key, key_node, _EXAMPLE_ENTRY_KEYS, "in an example", check)
        for key, (key_node, _) in fields.items()
        if key not in _EXAMPLE_ENTRY_KEYS
    }
    if "text" not in fields:
        if "text" not in suggested:  # ``txt:`` is already reported as a misspelling
            check.error(line_of(entry), "example-empty", "example entry without 'text'")
        return None
    value = fields["text"][1]
    if not isinstance(value, ScalarNode) or scalar_kind(value) not in {"string", "null"}:
        check.error(
            line_of(value), "example-not-string", f"'text' must be text, not {describe(value)}"
        )
        return None
    text = str(value.value).strip()
    if not text:
        check.error(line_of(value), "example-empty", "empty example: 'text' has nothing in it")
        return None
    return text, content_line(value)
