"""What an agent's handled conversation teaches the bot: a customer's text (personal data
masked) and the intent the agent says it was. Pure values and rules; no I/O.

A lesson is *pending* until a trainer reviews it (``tandem nlu review``), then *accepted*
or *rejected*; an accepted one becomes *learned* once ``tandem nlu learn`` has written it
into the trainers' data. The store keeps them (:class:`LessonStore`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

OUT_OF_SCOPE = "out_of_scope"
# The policy's reasons (handoff.policy.ReasonCode) that say the NLU did not understand a
# turn: these are the turns worth teaching (not a request for a person, say).
MISUNDERSTOOD = frozenset({"low_confidence", "ambiguous", "out_of_scope"})
INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")
# Rasa's own intents (rasa.shared.core.constants.DEFAULT_INTENTS): a trainers' intent of one
# of these names would be mistaken for Rasa's.
RASA_INTENTS = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})
# Rasa reads brackets in an example as an entity annotation. A masked text's placeholders
# ("[card]") become "<card>": Rasa's tokenizer reads both as the word "card", as it reads
# the placeholder in the masked text it is asked to parse.
_BRACKETS = str.maketrans("[]", "<>")


class LessonStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LEARNED = "learned"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLesson:
    message_id: int | None  # None: taught from a command, not a stored message
    handoff_id: int | None
    text: str  # masked
    intent: str
    taught_by_id: str
    taught_by_name: str
    taught_at: datetime
    model: str | None  # the model that failed to understand it, when known


@dataclass(frozen=True, slots=True, kw_only=True)
class Lesson:
    id: int
    message_id: int | None
    handoff_id: int | None
    text: str
    intent: str
    taught_by_id: str
    taught_by_name: str
    taught_at: datetime
    model: str | None
    status: LessonStatus
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


class LessonStore(Protocol):
    """Where lessons are kept (the SQL store implements it)."""

    async def add_lesson(self, lesson: NewLesson) -> Lesson:
        """Store ``lesson``; a pending lesson of the same message is replaced (the agent
        changed their mind)."""
        ...

    async def lessons(
        self, *, statuses: Sequence[LessonStatus] = (), handoff_id: int | None = None
    ) -> list[Lesson]:
        """Lessons in the order they were taught; all when ``statuses`` is empty; only
        those taught in handoff ``handoff_id``'s thread when given."""
        ...

    async def set_status(
        self, ids: Sequence[int], status: LessonStatus, *, by: str, at: datetime
    ) -> int:
        """Change the status of the lessons ``ids``; how many changed."""
        ...


class LessonError(ValueError):
    """A lesson that cannot be taught as asked (the words say why)."""


def misunderstood(decision: Mapping[str, Any] | None) -> bool:
    """Whether a stored turn's decision says the NLU did not understand it."""
    reasons = (decision or {}).get("reasons") or []
    return any(isinstance(r, Mapping) and r.get("code") in MISUNDERSTOOD for r in reasons)


def check_intent_name(name: str) -> str:
    """``name`` as an intent name (trimmed); :class:`LessonError` when it cannot be one."""
    cleaned = name.strip()
    if not INTENT_NAME.fullmatch(cleaned):
        raise LessonError(
            f"{cleaned!r} is not an intent name: use 2-64 lower-case letters, digits and "
            "underscores, starting with a letter (e.g. change_email)"
        )
    return cleaned


class NameProblem(StrEnum):
    """Why a name an agent typed cannot be a new intent."""

    INVALID = "invalid"  # not a Rasa-safe identifier
    TAKEN = "taken"  # an intent already: pick it instead
    RESERVED = "reserved"  # one of Rasa's own intents


def new_intent_problem(name: str, known: Iterable[str]) -> NameProblem | None:
    """What is wrong with ``name`` (trimmed) as the name of a new intent beside ``known``;
    None when nothing is."""
    cleaned = name.strip()
    if not INTENT_NAME.fullmatch(cleaned):
        return NameProblem.INVALID
    if cleaned in set(known):
        return NameProblem.TAKEN
    return NameProblem.RESERVED if cleaned in RASA_INTENTS else None


def example_text(text: str) -> str:
    """``text`` as one example line: one line, single spaces, no brackets (which Rasa would
    read as an entity annotation)."""
    return " ".join(text.split()).translate(_BRACKETS)


def intent_choices(
    ranking: Sequence[str], intents: Iterable[str], *, limit: int = 100
) -> list[str]:
    """The intents an agent picks from: the model's top guesses first, then the others in
    alphabetical order, out of scope last; each once."""
    ordered = list(dict.fromkeys([*ranking, *sorted(intents)]))
    ordered = [name for name in ordered if name != OUT_OF_SCOPE][: limit - 1]
    return [*ordered, OUT_OF_SCOPE]


def by_intent(lessons: Iterable[Lesson]) -> list[tuple[str, list[Lesson]]]:
    """Lessons grouped by the intent taught, the largest group first."""
    groups: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        groups.setdefault(lesson.intent, []).append(lesson)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


@dataclass(frozen=True, slots=True)
class LearningPlan:
    """What ``tandem nlu learn`` does with accepted lessons."""

    write: tuple[Lesson, ...]  # new examples to add
    present: tuple[Lesson, ...]  # already an example of the same intent
    conflicts: tuple[tuple[Lesson, str], ...]  # already an example of another intent
    waiting: tuple[Lesson, ...]  # of a new intent with too few examples yet


def plan_learning(
    accepted: Iterable[Lesson],
    existing: Mapping[str, str],
    *,
    key: Callable[[str], str],
    min_new: int = 0,
) -> LearningPlan:
    """Sort ``accepted`` lessons against ``existing`` examples (``key`` of the text ->
    intent): never an example already present under another intent, nor one twice; a new
    intent only once it has ``min_new`` examples (the trainers' minimum)."""
    seen = dict(existing)
    known = set(existing.values())
    write: list[Lesson] = []
    present: list[Lesson] = []
    conflicts: list[tuple[Lesson, str]] = []
    for lesson in accepted:
        text = key(example_text(lesson.text))
        other = seen.get(text)
        if other is None:
            seen[text] = lesson.intent
            write.append(lesson)
        elif other == lesson.intent:
            present.append(lesson)
        else:
            conflicts.append((lesson, other))
    new_counts: dict[str, int] = {}
    for lesson in write:
        if lesson.intent not in known:
            new_counts[lesson.intent] = new_counts.get(lesson.intent, 0) + 1
    short = {intent for intent, count in new_counts.items() if count < min_new}
    return LearningPlan(
        write=tuple(lesson for lesson in write if lesson.intent not in short),
        present=tuple(present),
        conflicts=tuple(conflicts),
        waiting=tuple(lesson for lesson in write if lesson.intent in short),
    )


@dataclass(frozen=True, slots=True)
class EffectRow:
    model: str  # the model that failed on these lessons ("unknown" when not recorded)
    taught: int
    understood: int  # now understood as taught


def effect(lessons: Iterable[Lesson], now_understood: Mapping[int, str]) -> list[EffectRow]:
    """Per model that failed, how many taught texts the current model understands as
    taught; ``now_understood`` maps a lesson's id to the intent the current model gives."""
    rows: dict[str, list[int]] = {}
    for lesson in lessons:
        counts = rows.setdefault(lesson.model or "unknown", [0, 0])
        counts[0] += 1
        counts[1] += now_understood.get(lesson.id) == lesson.intent
    return [EffectRow(model, taught, understood) for model, (taught, understood) in rows.items()]
