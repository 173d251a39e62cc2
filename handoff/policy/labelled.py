"""Labelled conversations: what a turn should lead to, as read from an evaluation file
(:mod:`handoff.policy.eval_file`) and replayed by :mod:`handoff.policy.evaluation`."""

from __future__ import annotations

from dataclasses import dataclass

from handoff.policy.model import Action, IntentGuess, ReasonCode


@dataclass(frozen=True, slots=True)
class Expected:
    action: Action
    reason: ReasonCode | None = None  # set exactly when action is HANDOFF


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledTurn:
    line: int
    text: str
    ranking: tuple[IntentGuess, ...] | None  # None: the NLU was down
    similarity: float | None = None  # to the top intent's nearest example; None: not measured
    person_requested: bool
    expected: Expected


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledConversation:
    line: int
    id: str
    about: str
    turns: tuple[LabelledTurn, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledSet:
    source: str
    conversations: tuple[LabelledConversation, ...]
