"""Sentence embeddings beside Rasa: the real WordLlama files the package ships, a model
fitted on a few inline examples, and the re-ranking of a parse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from nlu.errors import NluUnavailable
from nlu.parsing import IntentScore, ParseResult
from nlu.semantic import (
    ExampleModel,
    LabelledText,
    SemanticDataError,
    SemanticParser,
    combine,
    training_texts,
)
from nlu.sentences import StaticEmbeddings
from tests.support.fakes import ScriptedNlu

ENCODER = StaticEmbeddings.from_wordllama()
EXAMPLES = [
    LabelledText(text, intent)
    for intent, texts in {
        "reset_password": [
            "I forgot my password",
            "how do I reset my password",
            "my password does not work",
            "change my login password",
        ],
        "pricing": [
            "how much does the pro plan cost",
            "what is the price of a subscription",
            "is there a cheaper plan",
            "how much do you charge per month",
        ],
        "greet": ["hello", "hi there", "good morning", "hey"],
    }.items()
    for text in texts
]
MODEL = ExampleModel(encoder=ENCODER, examples=EXAMPLES)


def test_the_embeddings_load_from_the_installed_package_as_unit_vectors() -> None:
    vectors = ENCODER.encode(["reset my password", "I forgot my password", "", "the weather"])

    assert vectors.shape == (4, 256)
    assert np.allclose(np.linalg.norm(vectors[[0, 1, 3]], axis=1), 1.0, atol=1e-5)
    assert not vectors[2].any()  # no tokens, no direction
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[3] + 0.3


def test_the_model_ranks_by_meaning_and_measures_the_nearest_example() -> None:
    reading = MODEL.read("what does the premium tier cost")

    assert max(reading.probabilities, key=reading.probabilities.__getitem__) == "pricing"
    assert sum(reading.probabilities.values()) == pytest.approx(1.0)
    close = MODEL.nearest(reading, "pricing")
    far = MODEL.nearest(MODEL.read("my cat knocked the vase off the shelf"), "pricing")
    assert close is not None
    assert far is not None
    assert close > far + 0.2
    assert MODEL.nearest(reading, "no_such_intent") is None
    assert MODEL.nearest(MODEL.read(""), "pricing") is None


def test_combining_averages_the_rankings_and_measures_the_new_top() -> None:
    rasa = ParseResult(
        text="what does the premium tier cost",
        intent=IntentScore("reset_password", 0.45),
        ranking=(IntentScore("reset_password", 0.45), IntentScore("pricing", 0.40)),
        entities=(),
    )

    combined = combine(rasa, MODEL, rasa_weight=0.5)

    assert combined.intent is not None
    assert combined.intent.name == "pricing"
    assert combined.ranking[0] == combined.intent
    assert [s.confidence for s in combined.ranking] == sorted(
        (s.confidence for s in combined.ranking), reverse=True
    )
    assert {s.name for s in combined.ranking} == {"reset_password", "pricing", "greet"}
    assert combined.similarity == MODEL.nearest(MODEL.read(rasa.text), "pricing")
    assert combine(rasa, MODEL, rasa_weight=1.0).intent == IntentScore("reset_password", 0.45)


def test_the_parser_decorates_rasa() -> None:
    inner = ScriptedNlu(table={"hello there": [("greet", 0.9), ("pricing", 0.05)]})
    parser = SemanticParser(inner=inner, model=MODEL, rasa_weight=0.5)

    result = asyncio.run(parser.parse("hello there"))

    assert inner.seen == ["hello there"]
    assert result.intent is not None
    assert result.intent.name == "greet"
    assert result.similarity is not None
    assert result.similarity > 0.5


def test_a_rasa_outage_goes_through_the_parser_while_the_reading_is_dropped() -> None:
    parser = SemanticParser(inner=ScriptedNlu(down=True), model=MODEL, rasa_weight=0.5)

    with pytest.raises(NluUnavailable):
        asyncio.run(parser.parse("hello there"))


def test_a_model_needs_two_intents() -> None:
    with pytest.raises(SemanticDataError, match="at least two intents"):
        ExampleModel(encoder=ENCODER, examples=[LabelledText("hi", "greet")])


def test_the_shipped_examples_make_a_model() -> None:
    examples = training_texts(Path(__file__).parents[2] / "nlu" / "data")

    model = ExampleModel(encoder=ENCODER, examples=examples)

    assert {"greet", "out_of_scope"} <= set(model.intents)
    assert not any("](" in example.text for example in examples)  # annotations stripped
