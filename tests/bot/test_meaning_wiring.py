"""Which encoder the service's frustration detector reads messages with."""

from __future__ import annotations

import pytest

from bot.meaning import frustration_encoder, required_encoder
from handoff.policy import FrustrationDetector
from nlu.encoders import EncoderName, sentence_encoder
from nlu.minilm import shared_encoder


def test_the_detector_reads_with_the_process_one_encoder() -> None:
    reader = frustration_encoder()

    assert reader is shared_encoder()
    assert FrustrationDetector(encoder=reader).reads_meaning
    assert required_encoder() is reader  # the service's; training asks for more threads


@pytest.mark.parametrize("name", ["minilm", "minilm+wordllama"])
def test_a_message_the_nlu_read_is_in_the_detectors_cache(name: EncoderName) -> None:
    text = f"the nlu reads this first ({name})"
    assert not shared_encoder().has_read(text)

    sentence_encoder(name).encode([text])

    assert shared_encoder().has_read(text)  # the detector's reading costs nothing
