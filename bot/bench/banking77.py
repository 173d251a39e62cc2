"""``tandem bench banking77``: intent accuracy on Banking77's fixed held-out fifth
(:func:`nlu.banking77.held_out_split`) of a model trained on the other four fifths, with
Rasa alone and re-ranked by the embedding model fitted on the same examples; and what the
training took (Rasa's and the embedding model's)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.bench.oos import trained_and_parsed, with_embeddings
from handoff.policy.metrics import ratio
from nlu.banking77 import held_out_split, load_banking77
from nlu.benchmark import Parsed, read_parses, write_parses
from nlu.encoders import EncoderName

Out = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class BankingOptions:
    data: Path  # Banking77's train.csv
    config_file: Path  # the Rasa pipeline to train
    parses: Path | None  # read the parses here if it exists (no Rasa), else write them
    encoder: EncoderName  # the sentence encoder of the embedding model


async def run_banking77(options: BankingOptions, out: Out) -> None:
    train, held_out = held_out_split(load_banking77(options.data))
    intents = len({example.intent for example in train})
    out(f"{len(train)} training and {len(held_out)} held-out examples of {intents} intents")
    rasa_seconds: float | None = None
    if options.parses is not None and options.parses.exists():
        out(f"the parses in {options.parses} (no training, no Rasa)")
        parsed = read_parses(options.parses)
    else:
        parsed, rasa_seconds = await trained_and_parsed(
            out, train=train, parse=held_out, config_file=options.config_file
        )
        if options.parses is not None:
            write_parses(parsed, options.parses)
    started = time.perf_counter()
    combined = with_embeddings(out, parsed, train, options.encoder)
    embedding_seconds = time.perf_counter() - started
    out("")
    out(f"held-out accuracy (top intent = label, {len(parsed)} texts):")
    out(f"  Rasa alone                 {ratio(_accuracy(parsed))}")
    out(f"  with embeddings            {ratio(_accuracy(combined))}")
    rasa = "not measured (parses read back)" if rasa_seconds is None else f"{rasa_seconds:.0f} s"
    out(
        f"training: Rasa {rasa}; embedding model {embedding_seconds:.0f} s "
        "(fit and re-ranking every held-out parse)"
    )


def _accuracy(parsed: list[Parsed]) -> float | None:
    hits = [
        item.result.intent is not None and item.result.intent.name == item.example.intent
        for item in parsed
    ]
    return sum(hits) / len(hits) if hits else None
