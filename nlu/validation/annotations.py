"""Entity annotations in examples: checking them, and reading past them to the plain text.

Rasa marks entities inline, ``[ORD-1](order_id)``; a broken annotation is kept as literal
text and quietly teaches the model the brackets. The plain text (annotations stripped) is also
what decides whether two examples are the same sentence.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Final

_ENTITY_DICT_KEYS: Final = ("entity", "value", "role", "group")

# (code, message) of one thing wrong with an annotation.
_Issue = tuple[str, str]


def strip_annotations(text: str) -> str:
    """Replace entity annotations by the text they annotate: ``[ORD-1](order_id)`` -> ``ORD-1``."""
    plain, _ = parse_annotations(text)
    return plain


def normalize_example(text: str) -> str:
    """The form two examples must share to count as the same sentence.

    Annotations are stripped to their text, case is folded, runs of whitespace become one
    space and trailing ``.``, ``!`` and ``?`` go: "Where is [ORD-1](order_id)?" and
    "where is  ORD-1" teach the model the same thing.
    """
    return " ".join(strip_annotations(text).casefold().split()).rstrip(".!? ")


def parse_annotations(text: str) -> tuple[str, list[_Issue]]:
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


_NAMED_ENTITY = re.compile(r"\]\(([^)\s:]+)(?::[^)]*)?\)")  # [text](entity) or (entity:value)
_JSON_ENTITY = re.compile(r'"entity"\s*:\s*"([^"]+)"')  # [text]{"entity": "name", ...}


def entity_labels(text: str) -> list[str]:
    """The entity names an example annotates, in order (well-formed annotations are
    assumed: :func:`parse_annotations` reports the others)."""
    return [*_NAMED_ENTITY.findall(text), *_JSON_ENTITY.findall(text)]
