"""The bot's replies, from ``config/responses.yml``: several variants per intent or system
message, with optional inline buttons and placeholders filled from what the customer said.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoff.errors import HandoffError
from handoff.model import Button

PERSON_BUTTON = Button(label="Talk to a person", data="human")
MAX_TEXT = 4096  # Telegram's limit for one message

# The system messages the engine needs; a file without one of them is refused at start.
SYSTEM_KEYS = frozenset(
    {
        "start",
        "help",
        "clarify",
        "handoff",
        "already_waiting",
        "unsupported_media",
        "empty_message",
        "unknown_command",
        "edited_message",
        "group_chat",
        "stale_button",
        "agent_joined",
        "returned_to_bot",
        "closed",
        "rating_thanks",
        "rating_already",
        "outage_notice",
        "error_notice",
        "queue",
        "queue_no_data",
        "wait_update",
        "wait_keep",
        "wait_later",
        "out_of_hours",
        # Not said in the chat: the data export's explanation of each message's state.
        "export_received",
        "export_pending",
        "export_delivered",
        "export_failed",
        "export_retracted",
        "export_not_sent",
    }
)
# What a button's data may be: a person, an intent, or a choice of the wait update.
WAIT_DATA = frozenset({"wait:keep", "wait:bot", "wait:later"})


class ResponsesError(HandoffError):
    """``responses.yml`` is invalid; each line of :attr:`lines` names one problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class _Variant:
    template: str
    fields: frozenset[str]
    buttons: tuple[tuple[Button, ...], ...]

    @property
    def specificity(self) -> int:
        """How many entity placeholders it fills ({name} does not count: it is always known)."""
        return len(self.fields - {"name"})

    def render(self, values: Mapping[str, str], *, lenient: bool = False) -> Reply | None:
        """The filled reply; None if a placeholder is unknown, unless ``lenient``."""
        missing = self.fields - values.keys()
        if missing and not lenient:
            return None
        # Lenient: "Hi {name}!" becomes "Hi there!" rather than failing.
        filled = {**{field: "there" if field == "name" else "" for field in missing}, **values}
        return Reply(text=self.template.format_map(filled), buttons=self.buttons)


class Responses:
    """Picks and fills a reply. ``rng`` is injected so tests can fix the choice."""

    def __init__(
        self,
        *,
        intents: Mapping[str, Sequence[_Variant]],
        system: Mapping[str, Sequence[_Variant]],
        rng: random.Random | None = None,
    ) -> None:
        self._intents = dict(intents)
        self._system = dict(system)
        self._rng = rng or random.Random()

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(self._intents)

    def templates(self, intent: str) -> tuple[str, ...]:
        """The texts of ``intent``'s variants, placeholders unfilled."""
        return tuple(v.template for v in self._intents.get(intent, ()))

    def for_intent(self, intent: str, values: Mapping[str, str]) -> Reply | None:
        """An answer to ``intent``, or None when the file has none (or none fits)."""
        return self._pick(self._intents.get(intent, ()), values)

    def system(self, key: str, values: Mapping[str, str] | None = None) -> Reply:
        """A system message; ``key`` falls back to its prefix (``handoff_x`` -> ``handoff``)."""
        variants = self._system.get(key) or self._system[key.split("_", 1)[0]]
        values = values or {}
        reply = self._pick(variants, values) or self._pick(variants, values, lenient=True)
        assert reply is not None
        return reply

    def _pick(
        self, variants: Sequence[_Variant], values: Mapping[str, str], *, lenient: bool = False
    ) -> Reply | None:
        fitting = [(v, r) for v in variants if (r := v.render(values, lenient=lenient))]
        if not fitting:
            return None
        # A variant that uses what the customer told us ("order ORD-1") beats a generic one.
        best = max(v.specificity for v, _ in fitting)
        return self._rng.choice([r for v, r in fitting if v.specificity == best])


def load_responses(path: Path, *, rng: random.Random | None = None) -> Responses:
    """Read and check ``responses.yml``; raise :class:`ResponsesError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ResponsesError([f"{path}: cannot read ({exc.strerror})"]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise ResponsesError([f"{path}:{line}: not valid YAML: {exc.problem}"]) from None
    problems: list[str] = []
    if not isinstance(data, dict) or set(data) - {"intents", "system"}:
        raise ResponsesError([f"{path}: expected the two sections 'intents' and 'system'"])
    intents = _section(path, "intents", data.get("intents") or {}, problems)
    system = _section(path, "system", data.get("system") or {}, problems)
    problems += [f"{path}: system.{key}: missing" for key in sorted(SYSTEM_KEYS - system.keys())]
    if problems:
        raise ResponsesError(problems)
    return Responses(intents=intents, system=system, rng=rng)


def _section(
    path: Path, name: str, raw: object, problems: list[str]
) -> dict[str, tuple[_Variant, ...]]:
    if not isinstance(raw, dict):
        problems.append(f"{path}: {name}: expected a mapping of names to lists of variants")
        return {}
    section = {}
    for key, variants in raw.items():
        where = f"{path}: {name}.{key}"
        if not isinstance(variants, list) or not variants:
            problems.append(f"{where}: expected a list of one or more variants")
            continue
        parsed = [_variant(f"{where}[{i}]", v, problems) for i, v in enumerate(variants)]
        section[str(key)] = tuple(v for v in parsed if v is not None)
    return section


def _variant(where: str, raw: object, problems: list[str]) -> _Variant | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        problems.append(f"{where}: expected a mapping with a 'text'")
        return None
    unknown = set(raw) - {"text", "buttons", "offer_person"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    text = raw["text"].strip()
    if not text or len(text) > MAX_TEXT:
        problems.append(f"{where}: text must have 1 to {MAX_TEXT} characters")
        return None
    try:
        fields = frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f)
    except ValueError as exc:
        problems.append(f"{where}: bad placeholder ({exc}); write {{{{ and }}}} for braces")
        return None
    buttons = _buttons(where, raw.get("buttons") or [], problems)
    if raw.get("offer_person"):
        buttons = (*buttons, (PERSON_BUTTON,))
    return _Variant(template=text, fields=fields, buttons=buttons)


def _buttons(where: str, raw: object, problems: list[str]) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    if not isinstance(raw, list):
        problems.append(f"{where}.buttons: expected a list of rows")
        return ()
    for row in raw:
        cells = row if isinstance(row, list) else [row]
        buttons = []
        for cell in cells:
            label, data = (
                (cell.get("label"), cell.get("data")) if isinstance(cell, dict) else (None, None)
            )
            if not isinstance(label, str) or not isinstance(data, str):
                problems.append(f"{where}.buttons: each button needs a 'label' and a 'data'")
                continue
            known = data == "human" or data.startswith("intent:") or data in WAIT_DATA
            if not known or len(data.encode()) > 64:
                problems.append(
                    f"{where}.buttons: data {data!r} must be 'human', 'intent:NAME' (at most "
                    "64 bytes) or one of the wait update's: wait:keep, wait:bot, wait:later"
                )
                continue
            buttons.append(Button(label=label, data=data))
        if buttons:
            rows.append(tuple(buttons))
    return tuple(rows)


_COMMAND_LINE = re.compile(r"^/([a-z0-9_]{1,32})\s*[-:]\s+(\S.{0,255})$")


def menu_commands(help_text: str) -> list[tuple[str, str]]:
    """The bot's commands and their descriptions, as the help message lists them
    ("/human - talk to a person"): derived, so the menu never says other than the help."""
    found = (_COMMAND_LINE.match(line.strip()) for line in help_text.splitlines())
    return [(match.group(1), match.group(2).strip()) for match in found if match]
