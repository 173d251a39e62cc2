"""What the virtual customers say: held-out and training examples of intents the bot
answers, then the same with a greeting or a courtesy around them, each checked against the
NLU and the policy first, so that every measured message is one the bot answers; and how a
reply is recognised as one of the bot's answers.

Every text is sent at most once to a process under test (:class:`Feed`): the sentence
encoder keeps the last 512 messages' vectors, so a bench repeating a few dozen texts
measured a cache hit instead of the encoder's 5-15 ms a message.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoff.policy import (
    RECENT_TEXTS,
    Action,
    FrustrationDetector,
    IntentGuess,
    PolicyConfig,
    Turn,
    decide,
)
from nlu.benchmark import Example, Parsed, TurnJudge
from nlu.client import ParseResult

# [text](entity) and [text]{"entity": ...}: Rasa's markup; the customer types the text.
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_PLACEHOLDER = re.compile(r"\{\w+\}")

Judge = Callable[[ParseResult], str | None]

logger = logging.getLogger(__name__)

# Said around a question without changing what it asks (the check drops any variation the
# NLU or the policy reads otherwise). Nothing a frustrated customer says: the bench's
# judge reads the words only, the service also their meaning.
_OPENERS = (
    "",
    "hi, ",
    "hello, ",
    "hey, ",
    "hi there, ",
    "good morning, ",
    "quick question: ",
    "excuse me, ",
    "one more thing: ",
    "also, ",
    "question: ",
    "ok so ",
)
_CLOSERS = ("", " please", " thanks", " thank you", "?", " :)", " for me", " if possible")


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
    answer did not help), not a complaint (it counts towards frustration), and not a request
    for a person or a human-only topic (a person takes over; the policy answers a first
    message of them only when unsure, and a variation may then be read otherwise)."""
    never = {
        *policy.not_helpful_intents,
        *policy.frustration.complaint_intents,
        *policy.person_request_intents,
        *policy.human_only_intents,
    }
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


def variations(examples: Sequence[Example], *, seed: int = 8) -> Iterator[Example]:
    """``examples`` as written, then each with one opener and closer after another: all
    examples in one wording before the next wording, so that two wordings of one question
    are far apart (a customer saying the same thing again within 5 messages is frustrated).
    Every text once; the same order on every run."""
    wordings = list(itertools.product(_OPENERS, _CLOSERS))[1:]  # ("", "") is the first
    random.Random(seed).shuffle(wordings)
    seen: set[str] = set()
    for opener, closer in [("", ""), *wordings]:
        for example in examples:
            text = (
                f"{opener}{example.text.rstrip('?.!')}{closer}"
                if opener or closer
                else example.text
            )
            if text not in seen:
                seen.add(text)
                yield Example(text=text, intent=example.intent)


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

    def feed(self) -> Feed:
        """The texts, each once, for the customers of one process under test."""
        return Feed(self)

    @property
    def size(self) -> int:
        return sum(len(texts) for texts in self.by_intent)


class Feed:
    """Hands out a script's texts, each once, to the customers of one process under test
    (all its rows share the feed: one service keeps its encoder's cache from row to row).
    A customer gets no intent of its last :data:`~handoff.policy.RECENT_TEXTS` texts again
    while another is left (two wordings of one intent a few messages apart can read as the
    customer repeating itself, which is frustration: a handoff, not a bot answer), and never
    the same intent twice in a row. Which intent is drawn with a weight of the square of
    the texts it has left, so that the intents run out together and the mix stays alike
    from row to row (taking them in turn emptied the small ones first, and then a customer
    whose last intent was the only one left had none). When a run needs more texts than the
    script has, it starts over, says so in the log, and counts the texts it sent again
    (:attr:`repeated`)."""

    def __init__(self, script: Script, *, seed: int = 8) -> None:
        self._script = script
        self._queues = [deque(texts) for texts in script.by_intent]
        self._recent: dict[int, deque[int]] = {}  # customer -> the intents of its last texts
        self._chooser = random.Random(seed)
        self.repeated = 0
        self._rounds = 0

    def text(self, customer: int) -> str:
        """The ``customer``-th customer's next text."""
        intent = self._next_intent(customer)
        if intent is None:
            self._start_over()
            intent = self._next_intent(customer)
            assert intent is not None  # a script has at least two intents
        self._recent.setdefault(customer, deque(maxlen=RECENT_TEXTS)).append(intent)
        if self._rounds:
            self.repeated += 1
        return self._queues[intent].popleft()

    def _next_intent(self, customer: int) -> int | None:
        recent = self._recent.get(customer, deque())
        last = recent[-1] if recent else None
        left = [i for i, queue in enumerate(self._queues) if queue]
        open_ = [i for i in left if i not in recent] or [i for i in left if i != last]
        if not open_:
            return None
        return self._chooser.choices(open_, weights=[len(self._queues[i]) ** 2 for i in open_])[0]

    def _start_over(self) -> None:
        self._rounds += 1
        logger.warning(
            "the bench has sent the texts of its script (%d); sending them again (round %d): "
            "the encoder's cache may answer some of them",
            self._script.size,
            self._rounds + 1,
        )
        self._queues = [deque(texts) for texts in self._script.by_intent]


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
