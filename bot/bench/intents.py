"""``tandem bench intents``: what the shipped NLU model and the policy do with the held-out
examples, with texts from outside the domain (GoEmotions' Reddit comments) and with
keyboard mashing, before issue 9's rules and as configured.

The out-of-domain texts are dev-split comments about anything but a SaaS desk: none should
go to a person at once as a human-only topic, few should be answered. The keyboard mashing
is generated (a fixed seed), never answered ideally.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.app import nlu_parts
from bot.bench.rasa import bare_rasa, current_model
from bot.bench.texts import load_examples
from bot.settings import Settings
from handoff.policy import (
    Action,
    Decision,
    FrustrationDetector,
    IntentGuess,
    PolicyConfig,
    ReasonCode,
    Turn,
    decide,
)
from handoff.policy.benchmark import load_goemotions
from handoff.policy.meaning import SentenceEncoder
from nlu.benchmark import Example, Parsed, parse_all, percentile
from nlu.semantic import ExampleModel, SemanticParser, combine

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
MASH_COUNT = 220


@dataclass(frozen=True, slots=True)
class Share:
    part: int
    whole: int

    def __str__(self) -> str:
        rate = self.part / self.whole if self.whole else 0.0
        return f"{rate:.1%} ({self.part}/{self.whole})"


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    in_scope_answered_right: Share
    out_of_domain_human_only: Share
    out_of_domain_answered: Share
    mash_answered: Share
    decision_p50_ms: float
    whole_p50_ms: float  # Rasa's parse, the embeddings (if any) and the decision


def keyboard_mash(count: int = MASH_COUNT, *, seed: int = 9) -> list[str]:
    """Texts typed by hitting keys: runs along a keyboard row, sometimes repeated."""
    chooser = random.Random(seed)
    texts = []
    for _ in range(count):
        words = []
        for _ in range(chooser.randint(1, 3)):
            row = chooser.choice(_KEYBOARD_ROWS)
            start = chooser.randrange(len(row) - 2)
            run = row[start : start + chooser.randint(3, 6)]
            words.append(run if chooser.random() < 0.5 else "".join(chooser.sample(run, len(run))))
        if chooser.random() < 0.3:
            words = words[:1] * chooser.randint(2, 3)
        texts.append(" ".join(words))
    return texts


async def parse_sets(
    settings: Settings,
    *,
    test_data: Path,
    goemotions: Path,
    out_of_domain: int,
    model: Path | None,
    progress: Callable[[str], None],
    semantic: SemanticParserSetup | None = None,
) -> tuple[list[Parsed], list[Parsed], list[Parsed], list[Parsed] | None]:
    """(held-out in scope, out of domain, keyboard mash), parsed by the shipped model; and
    with ``semantic``, the held-out set parsed again, one at a time, as the service parses
    (Rasa with the embedding model reading the message meanwhile): its seconds are the
    whole parse's."""
    parts = nlu_parts(settings)
    parts.environment.require_ready()
    chosen = model or current_model(parts.store)
    in_scope = load_examples(test_data)
    reddit = [Example(t.text, "out_of_domain") for t in load_goemotions(goemotions)]
    mash = [Example(text, "mash") for text in keyboard_mash()]
    with tempfile.TemporaryDirectory(prefix="tandem-bench-intents-") as folder:
        server = bare_rasa(
            environment=parts.environment,
            model=chosen,
            directory=Path(folder),
            startup_timeout=300.0,
        )
        async with server:
            progress(f"Rasa up on {chosen.name}")
            results = []
            # The held-out set one at a time: its parse times are the latency of one message.
            for examples, concurrency in ((in_scope, 1), (reddit[:out_of_domain], 4), (mash, 4)):
                parsed, _ = await parse_all(server, examples, concurrency=concurrency)
                results.append(parsed)
                progress(f"parsed {len(parsed)} texts")
            served = None
            if semantic is not None:
                parser = SemanticParser(
                    inner=server, model=semantic.model, rasa_weight=semantic.rasa_weight
                )
                served, _ = await parse_all(parser, in_scope, concurrency=1)
                progress(f"parsed {len(served)} texts with the embedding model")
    return results[0], results[1], results[2], served


@dataclass(frozen=True, slots=True)
class SemanticParserSetup:
    model: ExampleModel
    rasa_weight: float


Sets = tuple[Sequence[Parsed], Sequence[Parsed], Sequence[Parsed]]


def with_embeddings(
    sets: Sets, model: ExampleModel, rasa_weight: float, served: Sequence[Parsed] | None = None
) -> Sets:
    """Each parse re-ranked by the embedding model; its seconds include the re-ranking. The
    held-out set ``served`` (parsed as the service parses) stands for the first set."""

    def one(item: Parsed) -> Parsed:
        started = time.perf_counter()
        result = combine(item.result, model, rasa_weight=rasa_weight)
        return replace(item, result=result, seconds=item.seconds + time.perf_counter() - started)

    in_scope, reddit, mash = ([one(item) for item in kind] for kind in sets)
    return (in_scope if served is None else served), reddit, mash


def measure(
    label: str, config: PolicyConfig, sets: Sets, *, encoder: SentenceEncoder | None = None
) -> Row:
    """``encoder``: the service's (shared with the NLU), for the frustration model's meaning
    head; None, the words model alone."""
    detector = FrustrationDetector(config.frustration, encoder=encoder)
    seconds: list[float] = []
    whole: list[float] = []

    def first(item: Parsed) -> Decision:
        ranking = tuple(IntentGuess(s.name, s.confidence) for s in item.result.ranking)
        turn = Turn(
            text=item.example.text, ranking=ranking, example_similarity=item.result.similarity
        )
        if encoder is not None:  # the NLU's parse read it (that time is in item.seconds)
            encoder.encode([item.example.text])
        started = time.perf_counter()
        decision = decide(turn, config=config, detector=detector)
        seconds.append(time.perf_counter() - started)
        whole.append(item.seconds + seconds[-1])
        return decision

    in_scope, reddit, mash = ([first(item) for item in kind] for kind in sets)
    whole = whole[: len(in_scope)]  # the held-out set was parsed one at a time
    right = sum(
        d.action is Action.ANSWER and d.intent == item.example.intent
        for d, item in zip(in_scope, sets[0], strict=True)
    )
    return Row(
        label=label,
        in_scope_answered_right=Share(right, len(in_scope)),
        out_of_domain_human_only=Share(
            sum(d.handoff_reason is ReasonCode.HUMAN_ONLY_TOPIC for d in reddit), len(reddit)
        ),
        out_of_domain_answered=Share(sum(d.action is Action.ANSWER for d in reddit), len(reddit)),
        mash_answered=Share(sum(d.action is Action.ANSWER for d in mash), len(mash)),
        decision_p50_ms=percentile(seconds, 50) * 1000,
        whole_p50_ms=percentile(whole, 50) * 1000,
    )


def table(rows: Sequence[Row]) -> list[str]:
    lines = []
    for row in rows:
        lines += [
            f"{row.label}:",
            f"  held-out in scope answered with the right intent  {row.in_scope_answered_right}",
            f"  out of domain handed off at once as human-only   {row.out_of_domain_human_only}",
            f"  out of domain answered                           {row.out_of_domain_answered}",
            f"  keyboard mash answered                           {row.mash_answered}",
            f"  policy decision p50 (text model, cues, rules)    {row.decision_p50_ms:.2f} ms",
            f"  whole decision p50 (Rasa parse, embeddings, rules) {row.whole_p50_ms:.2f} ms",
        ]
    return lines
