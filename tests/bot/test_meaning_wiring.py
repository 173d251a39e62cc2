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
    assert required_encoder() is reader


@pytest.mark.parametrize("name", ["minilm", "minilm+wordllama"])
def test_a_message_the_nlu_read_is_in_the_detectors_cache(name: EncoderName) -> None:
    text = f"the nlu reads this first ({name})"
    assert shared_encoder().kept(text) is None

    sentence_encoder(name).encode([text])

    assert shared_encoder().kept(text) is not None  # the detector's reading costs nothing


def test_the_vector_the_nlu_left_is_at_hand_without_encoding() -> None:
    detector = FrustrationDetector(encoder=frustration_encoder())
    text = "read by the nlu, then by the detector on the event loop"
    assert detector.meaning_at_hand(text) is None  # not read yet: a worker thread encodes it

    shared_encoder().encode([text])  # the NLU's reading
    at_hand = detector.meaning_at_hand(text)

    assert at_hand is not None
    read = detector.read_meaning(text)
    assert read is not None
    assert (at_hand == read).all()


def test_no_vector_is_at_hand_for_a_detector_that_reads_words_only() -> None:
    text = "the words model needs no vector"
    shared_encoder().encode([text])

    assert (
        FrustrationDetector(encoder=shared_encoder(), words_only=True).meaning_at_hand(text) is None
    )
