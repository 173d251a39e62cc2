"""The frustration model's meaning head: a sentence encoder's vector read beside the words."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.meaning import ENCODER_NAME, required_encoder
from handoff.policy import FrustrationDetector
from handoff.policy.meaning import MeaningHead, Vectors
from handoff.policy.textmodel import Sentiment
from handoff.policy.training import LabelledData, TrainingSettings, mismatch, train
from handoff.policy.weights import dump_weights, load_weights, shipped_weights

NEUTRAL = Sentiment(negative=0.0, positive=0.0, compound=0.0)


class KeywordEncoder:
    """A hand-written encoder: 3 dimensions, (complaint, question, other), unit length."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.encoded.extend(texts)
        rows = []
        for text in texts:
            lowered = text.lower()
            row = [
                float(any(w in lowered for w in ("never", "still", "nobody", "worst"))),
                float("?" in text),
                1.0,
            ]
            rows.append(np.array(row) / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32)


def head(dimensions: int = 3, *, complaint: float = 4.0) -> MeaningHead:
    embedding = np.zeros(dimensions)
    embedding[0] = complaint
    return MeaningHead(
        encoder="keywords",
        embedding=embedding,
        words=0.5,
        sentiment=(0.0, 0.0, 0.0, 0.0),
        intercept=-1.0,
    )


def test_the_head_adds_the_vector_the_words_logit_and_vader() -> None:
    reading = head()
    vector = np.array([1.0, 0.0, 0.0], dtype=np.float32)

    assert reading.logit(vector, 2.0, NEUTRAL) == pytest.approx(-1.0 + 4.0 + 1.0)
    assert reading.probability(vector, 2.0, NEUTRAL) == pytest.approx(1 / (1 + np.exp(-4.0)))
    assert 0.0 < reading.probability(-vector, -500.0, NEUTRAL) < 1e-6


def test_a_head_needs_its_coefficients() -> None:
    with pytest.raises(ValueError, match="sentiment"):
        replace(head(), sentiment=(0.0,))
    with pytest.raises(ValueError, match="embedding"):
        replace(head(), embedding=np.zeros(0))


def test_the_detector_scores_with_the_head_when_it_has_an_encoder() -> None:
    encoder = KeywordEncoder()
    detector = FrustrationDetector(encoder=encoder, head=head())
    text = "my parcel never came and nobody answers"
    sentiment = detector.sentiments(text)
    expected = head().probability(
        encoder.encode([text])[0], detector.model.logit(text, sentiment), sentiment
    )

    result = detector.assess(text, intent=None)

    assert detector.reads_meaning
    assert result.model_probability == pytest.approx(expected, abs=1e-4)
    assert f"text_model:{expected:.2f}" in result.cues  # the card shows the model's score
    assert text in encoder.encoded


def test_a_vector_read_ahead_is_scored_without_encoding_again() -> None:
    encoder = KeywordEncoder()
    detector = FrustrationDetector(encoder=encoder, head=head())
    text = "my parcel never came and nobody answers"
    meaning = detector.read_meaning(text)  # the service reads it in a worker thread
    encoder.encoded.clear()

    ahead = detector.assess(text, intent=None, meaning=meaning)

    assert encoder.encoded == []
    assert ahead == detector.assess(text, intent=None)  # the same as read on the spot
    assert FrustrationDetector(words_only=True).read_meaning(text) is None  # no head: none


def test_the_meaning_changes_the_score_of_the_same_words() -> None:
    calm = FrustrationDetector(encoder=KeywordEncoder(), head=head(complaint=0.0))
    upset = FrustrationDetector(encoder=KeywordEncoder(), head=head(complaint=6.0))
    text = "the parcel still is not here"

    assert (
        upset.assess(text, intent=None).model_probability
        > calm.assess(text, intent=None).model_probability
    )


def test_without_an_encoder_the_words_model_scores_and_the_log_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(FrustrationDetector, "_said_words_only", False)
    caplog.set_level(logging.WARNING, logger="handoff.policy.frustration")

    first = FrustrationDetector()
    FrustrationDetector()
    text = "this is ridiculous, absolutely useless"
    result = first.assess(text, intent=None)

    assert not first.reads_meaning
    said = [r.getMessage() for r in caplog.records if "reads the words only" in r.getMessage()]
    assert said == [
        "frustration: no sentence encoder; the text model reads the words only (TF-IDF and VADER)"
    ]
    expected = first.model.probability(text, first.sentiments(text))
    assert result.model_probability == pytest.approx(expected, abs=1e-4)


def test_an_encoder_of_other_vectors_leaves_the_words_model_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(FrustrationDetector, "_said_words_only", False)
    caplog.set_level(logging.WARNING, logger="handoff.policy.frustration")

    detector = FrustrationDetector(encoder=KeywordEncoder(), head=head(dimensions=384))

    assert not detector.reads_meaning
    assert "3 dimensions, the meaning head (keywords) 384" in caplog.text


def test_words_only_is_not_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(FrustrationDetector, "_said_words_only", False)

    detector = FrustrationDetector(words_only=True)

    assert not detector.reads_meaning
    assert "reads the words only" not in caplog.text


# --- the shipped head, read with the real encoder ----------------------------------------------


def test_the_shipped_weights_have_a_head_for_minilm() -> None:
    shipped = shipped_weights().head

    assert shipped is not None
    assert shipped.encoder == ENCODER_NAME
    assert shipped.dimensions == 384


@pytest.fixture(scope="module")
def reading() -> FrustrationDetector:
    detector = FrustrationDetector(encoder=required_encoder())
    assert detector.reads_meaning
    return detector


@pytest.mark.parametrize(
    ("angry", "calm"),
    [
        ("this is ridiculous, absolutely useless", "how do I reset my password?"),
        ("I am so angry with your service", "where can I download my invoice?"),
        ("worst support I have ever had", "thanks, that sorted it"),
        ("two weeks and my order still has not shipped, nobody replies", "when will it ship?"),
    ],
)
def test_the_shipped_head_reads_frustration(
    reading: FrustrationDetector, angry: str, calm: str
) -> None:
    assert (
        reading.assess(angry, intent=None).model_probability
        > 0.6
        > 0.3
        > reading.assess(calm, intent=None).model_probability
    )


# --- weights on disk and training -------------------------------------------------------------


def test_weights_with_a_head_round_trip(tmp_path: Path) -> None:
    weights = replace(load_weights(), head=head())
    path = tmp_path / "weights.json.gz"

    dump_weights(weights, path)
    again = load_weights(path)

    assert again.head is not None
    assert again.head.encoder == "keywords"
    assert again.head.embedding.tolist() == [4.0, 0.0, 0.0]
    assert mismatch(weights, again, ()) is None


def test_a_head_that_differs_does_not_match() -> None:
    weights = replace(load_weights(), head=head())

    assert mismatch(weights, replace(weights, head=head(complaint=1.0)), ()) is not None
    assert mismatch(weights, replace(weights, head=None), ()) == (
        "the committed weights have a meaning head, training gave none"
    )
    assert mismatch(replace(weights, head=None), weights, ()) == (
        "the committed weights have no meaning head"
    )


def test_training_with_an_encoder_learns_a_head() -> None:
    complaints = [f"order {n} never came, nobody answers" for n in range(10)]
    questions = [f"where is order {n}?" for n in range(10)]
    data = LabelledData(tuple(complaints + questions), (True,) * 10 + (False,) * 10, "0" * 64)
    encoder = KeywordEncoder()

    weights = train(data, TrainingSettings(min_documents=1), encoder=encoder, encoder_name="kw")

    assert weights.head is not None
    assert weights.head.encoder == "kw"
    assert weights.head.dimensions == 3
    assert weights.head.embedding[0] > 0  # the complaint dimension reads as frustrated
    assert set(encoder.encoded) == set(data.texts)
