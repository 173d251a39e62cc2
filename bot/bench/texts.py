"""What the virtual customers say: held-out examples of intents the bot answers, checked
against the NLU and the policy first, so that every measured message is one the bot
answers; and how a reply is recognised as one of the bot's answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoff.policy import Action, FrustrationDetector, IntentGuess, PolicyConfig, Turn, decide
from nlu.benchmark import Example, Parsed, TurnJudge
from nlu.client import ParseResult

# [text](entity) and [text]{"entity": ...}: Rasa's markup; the customer types the text.
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_PLACEHOLDER = re.compile(r"\{\w+\}")

Judge = Callable[[ParseResult], str | None]


def load_examples(folder: Path) -> list[Example]:
    """Every example of every intent in the Rasa NLU YAML files of ``folder``."""
    examples = []
    for path in sorted(folder.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            if not isinstance(block, dict) or "intent" not in block:
                continue  # synonyms, regexes, lookups
            for line in str(block.get("examples", "")).splitlines():
                text = _ENTITY_MARKUP.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    examples.append(Example(text=text, intent=str(block["intent"])))
    return examples


def candidates(examples: Iterable[Example], policy: PolicyConfig) -> list[Example]:
    """Examples of intents the bot can answer turn after turn: not "no" (it says the last
    answer did not help) and not a complaint (it counts towards frustration)."""
    never = {*policy.not_helpful_intents, *policy.frustration.complaint_intents}
    return [example for example in examples if example.intent not in never]


def policy_judge(config: PolicyConfig, detector: FrustrationDetector) -> Judge:
    """The policy on a customer's first message: the intent it answers, or None."""

    def judge(result: ParseResult) -> str | None:
        ranking = tuple(IntentGuess(s.name, s.confidence) for s in result.ranking)
        turn = Turn(text=result.text, ranking=ranking, example_similarity=result.similarity)
        decision = decide(turn, config=config, detector=detector)
        return decision.intent if decision.action is Action.ANSWER else None

    return judge


def policy_turn_judge(config: PolicyConfig, detector: FrustrationDetector) -> TurnJudge:
    """The policy's action on a parse, as a first message or right after a failed turn."""

    def judge(result: ParseResult, after_failure: bool) -> str:
        ranking = tuple(IntentGuess(s.name, s.confidence) for s in result.ranking)
        turn = Turn(
            text=result.text,
            ranking=ranking,
            failed_turns=1 if after_failure else 0,
            example_similarity=result.similarity,
        )
        return decide(turn, config=config, detector=detector).action.value

    return judge


def answered(parsed: Iterable[Parsed], judge: Judge) -> list[Example]:
    """The examples the policy answers with their own intent."""
    return [item.example for item in parsed if judge(item.result) == item.example.intent]


@dataclass(frozen=True, slots=True)
class Script:
    """The texts customers send, intent by intent in turn: no customer asks the same
    intent twice in a row (the policy would take it as "that did not help")."""

    by_intent: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, examples: Iterable[Example]) -> Script:
        grouped: dict[str, list[str]] = {}
        for example in examples:
            grouped.setdefault(example.intent, []).append(example.text)
        if len(grouped) < 2:
            raise ValueError(
                "the bench needs texts of at least two intents the bot answers; "
                f"found {sorted(grouped) or 'none'}"
            )
        return cls(by_intent=tuple(tuple(grouped[name]) for name in sorted(grouped)))

    def text(self, customer: int, turn: int) -> str:
        """The ``turn``-th text of the ``customer``-th customer."""
        intents = len(self.by_intent)
        texts = self.by_intent[(customer + turn) % intents]
        return texts[(turn // intents + customer) % len(texts)]

    @property
    def size(self) -> int:
        return sum(len(texts) for texts in self.by_intent)


class AnswerMatcher:
    """Whether a message is one of the bot's answers to an intent (``intents:`` in the
    replies file; placeholders match anything), rather than a clarification, a handoff or
    a notice."""

    def __init__(self, variants: Sequence[str]) -> None:
        self._patterns = [
            re.compile(
                ".+?".join(re.escape(part) for part in _PLACEHOLDER.split(text.strip())),
                re.DOTALL,
            )
            for text in variants
        ]

    @classmethod
    def from_file(cls, responses_file: Path) -> AnswerMatcher:
        document = yaml.safe_load(responses_file.read_text(encoding="utf-8")) or {}
        return cls(
            [
                variant["text"]
                for variants in (document.get("intents") or {}).values()
                for variant in variants or []
                if isinstance(variant, dict) and isinstance(variant.get("text"), str)
            ]
        )

    def __call__(self, text: str) -> bool:
        return any(pattern.fullmatch(text.strip()) for pattern in self._patterns)
