"""The shape of an NLU file: top-level keys, ``version``, and the items under ``nlu:``.

Each intent item's examples are read (:mod:`.example_blocks`) and their annotations checked;
a regex item's patterns are compiled.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Final

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.validation.annotations import parse_annotations
from nlu.validation.example_blocks import read_examples
from nlu.validation.file_check import Example, FileCheck, Location
from nlu.validation.keys import mapping_entries, report_unknown_key
from nlu.validation.nodes import describe, is_null, line_of, scalar_kind

_KINDS: Final = ("intent", "synonym", "regex", "lookup")
_ITEM_KEYS: Final = (*_KINDS, "examples", "metadata")
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

_VERSION_3: Final = re.compile(r"3\.\d+")
# Plain words, or one '/' for a retrieval intent such as ``faq/ask_hours``.
_INTENT_NAME: Final = re.compile(r"[^\s/]+(/[^\s/]+)?")


def check_document(root: Node, check: FileCheck) -> None:
    if not isinstance(root, MappingNode):
        check.error(
            line_of(root),
            "not-a-mapping",
            f"the file must be a mapping with 'version' and 'nlu' keys, not {describe(root)}",
        )
        return
    entries = mapping_entries(root, check)
    if "version" not in {key for key, _, _ in entries}:
        check.warning(1, "version-missing", 'no version; add version: "3.1" at the top')
    for key, key_node, value in entries:
        if key == "version":
            _check_version(value, check)
        elif key == "nlu":
            _check_nlu(value, check)
        elif key in _OTHER_RASA_KEYS:
            check.warning(line_of(key_node), "not-nlu-key", f"'{key}' is not used by NLU training")
        else:
            report_unknown_key(key, key_node, _TOP_LEVEL_KEYS, "at the top level", check)


def _check_version(node: Node, check: FileCheck) -> None:
    if not isinstance(node, ScalarNode) or scalar_kind(node) != "string":
        check.error(
            line_of(node),
            "version-not-string",
            f'version must be a quoted string such as "3.1", not {describe(node)}',
        )
    elif not _VERSION_3.fullmatch(str(node.value).strip()):
        check.error(
            line_of(node),
            "version-unsupported",
            f'version "{node.value}" is not a Rasa 3.x format; use "3.1"',
        )


def _check_nlu(node: Node, check: FileCheck) -> None:
    if is_null(node) or (isinstance(node, SequenceNode) and not node.value):
        check.warning(line_of(node), "nlu-empty", "'nlu' has no items")
        return
    if not isinstance(node, SequenceNode):
        check.error(
            line_of(node),
            "nlu-not-list",
            f"'nlu' must be a list of '- intent: ...' items, not {describe(node)}",
        )
        return
    items: list[Node] = node.value
    for item in items:
        _check_item(item, check)


def _check_item(node: Node, check: FileCheck) -> None:
    if not isinstance(node, MappingNode):
        check.error(
            line_of(node),
            "item-not-mapping",
            "each nlu item must be a mapping such as '- intent: greet' with 'examples: |', "
            f"not {describe(node)}",
        )
        return
    check.has_nlu_data = True
    entries = {key: (key_node, value) for key, key_node, value in mapping_entries(node, check)}
    suggested = {
        report_unknown_key(key, key_node, _ITEM_KEYS, "in an nlu item", check)
        for key, (key_node, _) in entries.items()
        if key not in _ITEM_KEYS
    }
    kinds = [key for key in entries if key in _KINDS]
    if not kinds:
        # ``intnet: greet`` is already reported as a misspelling; saying "no intent" adds nothing.
        if not suggested.intersection(_KINDS):
            check.error(
                line_of(node),
                "item-kind-missing",
                "this nlu item has none of 'intent', 'synonym', 'regex', 'lookup'",
            )
        return
    if len(kinds) > 1:
        check.error(
            line_of(entries[kinds[1]][0]),
            "item-kind-multiple",
            f"this nlu item has both '{kinds[0]}' and '{kinds[1]}'; give each its own item",
        )
        return
    _check_single_kind_item(kinds[0], entries, "examples" in suggested, check)


def _check_single_kind_item(
    kind: str,
    entries: Mapping[str, tuple[Node, Node]],
    examples_misspelled: bool,
    check: FileCheck,
) -> None:
    key_node, name_node = entries[kind]
    name = _item_name(kind, name_node, check)
    if "metadata" in entries and kind != "intent":
        check.error(
            line_of(entries["metadata"][0]),
            "unknown-key",
            f"'metadata' is allowed on intent items only, not on a {kind}",
        )
    if "examples" not in entries:
        if not examples_misspelled:
            check.error(
                line_of(key_node), "examples-missing", f"{kind} '{name or ''}' has no 'examples'"
            )
        texts: list[tuple[str, int]] = []
    else:
        texts = read_examples(kind, entries["examples"][1], check)
    if kind == "intent":
        for text, line in texts:
            _check_annotations(text, line, check)
        if name is not None:
            check.declare(name, line_of(key_node))
            check.examples.extend(
                Example(name, text, Location(check.path, line)) for text, line in texts
            )
    elif kind == "regex":
        for pattern, line in texts:
            _check_pattern(pattern, line, check)


def _item_name(kind: str, node: Node, check: FileCheck) -> str | None:
    """The item's name, or None (reported) when it has none Rasa would accept."""
    if is_null(node) or (isinstance(node, ScalarNode) and not str(node.value).strip()):
        check.error(line_of(node), "name-empty", f"'{kind}:' needs a name")
        return None
    if not isinstance(node, ScalarNode) or scalar_kind(node) != "string":
        check.error(
            line_of(node),
            "name-not-string",
            f"a {kind} name must be text, not {describe(node)}; quote it",
        )
        return None
    name = str(node.value)
    if kind == "intent" and not _INTENT_NAME.fullmatch(name):
        check.error(
            line_of(node),
            "intent-name-invalid",
            f"intent name '{name}' must have no spaces, and at most one '/' "
            "(retrieval intents, such as 'faq/ask_hours')",
        )
    return name


def _check_pattern(pattern: str, line: int, check: FileCheck) -> None:
    # Rasa's regex featurizer and extractor compile these with Python's re, as here.
    with warnings.catch_warnings():
        # re warns about some odd but valid patterns; that is noise on a validator's output.
        warnings.simplefilter("ignore")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            check.error(line, "regex-invalid", f"regex {pattern!r} does not compile: {exc}")


def _check_annotations(text: str, line: int, check: FileCheck) -> None:
    _, issues = parse_annotations(text)
    for code, message in issues:
        check.error(line, code, message)
