"""Which encoder the service's frustration detector reads messages with."""

from __future__ import annotations

from bot.meaning import frustration_encoder, reader_for
from handoff.policy import FrustrationDetector
from nlu.minilm import MiniLmEncoder
from nlu.semantic import ExampleModel, LabelledText, SemanticParser
from tests.support.fakes import ScriptedNlu

EXAMPLES = [
    LabelledText("where is my order", "order_status"),
    LabelledText("has my parcel shipped", "order_status"),
    LabelledText("hello there", "greet"),
    LabelledText("good morning", "greet"),
]


def parser() -> SemanticParser:
    model = ExampleModel(encoder=MiniLmEncoder.from_package(), examples=EXAMPLES)
    return SemanticParser(inner=ScriptedNlu(), model=model, rasa_weight=0.5)


def test_the_nlus_minilm_encoder_is_shared() -> None:
    nlu = parser()

    reader = reader_for(nlu, "minilm")

    assert reader is nlu.model.encoder  # the NLU's cache has the message's vector
    assert FrustrationDetector(encoder=reader).reads_meaning


def test_another_nlu_encoder_or_none_leaves_the_detector_its_own() -> None:
    own = frustration_encoder()

    assert own is not None
    assert reader_for(parser(), "minilm+wordllama") is own
    assert reader_for(ScriptedNlu(), "minilm") is own
    assert reader_for(None, "minilm") is own
