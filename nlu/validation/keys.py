"""A mapping's keys as Rasa sees them: repeated, odd, unknown and misspelled keys reported."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from yaml.nodes import MappingNode, Node, ScalarNode

from nlu.validation.file_check import FileCheck
from nlu.validation.nodes import describe, line_of


def mapping_entries(node: MappingNode, check: FileCheck) -> list[tuple[str, Node, Node]]:
    """The mapping's (key, key node, value node), reporting odd and repeated keys."""
    entries: list[tuple[str, Node, Node]] = []
    first_lines: dict[str, int] = {}
    pairs: list[tuple[Node, Node]] = node.value
    for key_node, value in pairs:
        if not isinstance(key_node, ScalarNode):
            check.error(
                line_of(key_node), "bad-key", f"a key must be a name, not {describe(key_node)}"
            )
            continue
        key = str(key_node.value)
        if key in first_lines:
            # Rasa's YAML reader refuses the whole file over a repeated key.
            check.error(
                line_of(key_node),
                "duplicate-key",
                f"'{key}' appears twice in the same mapping (first on line {first_lines[key]})",
            )
            continue
        first_lines[key] = line_of(key_node)
        entries.append((key, key_node, value))
    return entries


def report_unknown_key(
    key: str, key_node: Node, allowed: Sequence[str], where: str, check: FileCheck
) -> str | None:
    """Report ``key`` as unknown; return the allowed key it most likely misspells, if any."""
    matches = difflib.get_close_matches(key.casefold(), allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{matches[0]}'?" if matches else f"expected: {', '.join(allowed)}"
    check.error(line_of(key_node), "unknown-key", f"unknown key '{key}' {where}; {hint}")
    return matches[0] if matches else None
