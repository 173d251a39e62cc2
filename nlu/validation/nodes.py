"""Small questions about PyYAML nodes: their line, their kind, how to name them in a message.

Rasa reads YAML 1.2 and PyYAML composes YAML 1.1; :func:`scalar_kind` answers as Rasa would.
"""

from __future__ import annotations

import re
from typing import Final

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Rasa reads YAML 1.2 (ruamel), where only these plain scalars are not strings. PyYAML speaks
# YAML 1.1 and would, for instance, call ``intent: yes`` a boolean that Rasa reads as "yes".
_YAML12_NULL: Final = re.compile(r"~|null|Null|NULL|")
_YAML12_BOOL: Final = re.compile(r"true|True|TRUE|false|False|FALSE")
_YAML12_NUMBER: Final = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def content_line(node: ScalarNode) -> int:
    # A block scalar's text starts on the line after its '|' or '>' indicator.
    return line_of(node) + 1 if node.style in {"|", ">"} else line_of(node)


def scalar_kind(node: ScalarNode) -> str:
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


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and scalar_kind(node) == "null"


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        kind = scalar_kind(node)
        if kind == "null":
            return "nothing"
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} ({node.value})"
    return "an unexpected YAML node"
