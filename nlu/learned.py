"""The trainers' files that Tandem writes: the examples agents taught (``data/learned.yml``)
and the domain (``domain.yml``), kept in step with the intents of the data so that Rasa's
own tools (``rasa data validate``, ``rasa train nlu``) work on the folder."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from nlu.errors import NluError
from nlu.validation import load_examples

LEARNED_FILE = "learned.yml"
DOMAIN_FILE = "domain.yml"

_LEARNED_HEADER = """\
version: "3.1"

# Examples agents taught the bot from handoff threads in Slack, reviewed by a trainer
# (`tandem nlu review`) and written here by `tandem nlu learn`. Edit freely: move an example
# to its intent's own file, or delete it; `tandem nlu learn` never adds one that is already
# an example of another intent.
nlu:
"""
_DOMAIN_HEADER = """\
version: "3.1"

# The intents and entities of the training data in nlu/data, for Rasa's own tools
# (`rasa data validate`, `rasa train nlu`). Tandem keeps it in step with the data:
# `tandem nlu validate` reports a difference and `tandem nlu learn` adds a taught intent.
"""


class DomainError(NluError):
    """domain.yml cannot be read as a Rasa domain."""


def add_learned(path: Path, additions: Sequence[tuple[str, str]]) -> int:
    """Add ``additions`` (intent, example text) to the learned examples at ``path``
    (created if missing), keeping what is there; how many were added."""
    merged: dict[str, list[str]] = {}
    if path.exists():
        for intent, examples in load_examples([path]).items():
            merged[intent] = [example.text for example in examples]
    for intent, text in additions:
        merged.setdefault(intent, []).append(text)
    path.write_text(render_learned(merged), encoding="utf-8")
    return len(additions)


def render_learned(examples: dict[str, list[str]]) -> str:
    blocks = []
    for intent in sorted(examples):
        lines = "".join(f"      - {text}\n" for text in examples[intent])
        blocks.append(f"  - intent: {intent}\n    examples: |\n{lines}")
    return _LEARNED_HEADER + "\n".join(blocks)


def domain_names(path: Path) -> tuple[list[str], list[str]]:
    """The intents and entities ``domain.yml`` declares."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DomainError(f"{path}: cannot read the domain: {exc}") from exc
    if not isinstance(loaded, dict):
        raise DomainError(f"{path}: a domain is a mapping with intents and entities")
    return _names(loaded.get("intents"), path, "intents"), _names(
        loaded.get("entities"), path, "entities"
    )


def write_domain(path: Path, *, intents: Iterable[str], entities: Iterable[str]) -> None:
    def listed(names: Iterable[str]) -> str:
        return "".join(f"  - {name}\n" for name in sorted(set(names)))

    path.write_text(
        f"{_DOMAIN_HEADER}intents:\n{listed(intents)}\nentities:\n{listed(entities)}",
        encoding="utf-8",
    )


def _names(value: object, path: Path, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DomainError(f"{path}: {key} must be a list")
    names = []
    for item in value:
        # Rasa allows "- name" or "- name: {options}".
        name = next(iter(item)) if isinstance(item, dict) and item else item
        if not isinstance(name, str):
            raise DomainError(f"{path}: {key} holds {item!r}, not a name")
        names.append(name)
    return names


def domain_differences(path: Path, data_intents: Iterable[str]) -> list[str]:
    """What ``domain.yml`` at ``path`` lacks or has beyond the data's intents (warnings)."""
    if not path.exists():
        return [f"{path}: no domain: Rasa's own tools (`rasa data validate`) need one"]
    try:
        intents, _ = domain_names(path)
    except DomainError as exc:
        return [str(exc)]
    missing = sorted(set(data_intents) - set(intents))
    extra = sorted(set(intents) - set(data_intents))
    lines = [
        f"{path}: warning: intent {name} is in the data but not the domain" for name in missing
    ]
    lines += [f"{path}: warning: intent {name} is in the domain but not the data" for name in extra]
    return lines
