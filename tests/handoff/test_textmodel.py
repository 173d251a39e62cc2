"""The frustration text model: its features, scores, gibberish, weights on disk, training."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from handoff.policy import FrustrationDetector
from handoff.policy.errors import WeightsError
from handoff.policy.metrics import auroc
from handoff.policy.textmodel import Sentiment, TextModel, features
from handoff.policy.training import LabelledData, mismatch, read_training_data
from handoff.policy.weights import SHIPPED_TRAINING_DATA, dump_weights, load_weights

DETECTOR = FrustrationDetector()
MODEL = DETECTOR.model


def probability(text: str) -> float:
    return MODEL.probability(text, DETECTOR.sentiments(text))


def test_features_are_words_word_pairs_and_letters_within_words() -> None:
    counts = features("Useless bot")

    assert counts["w:useless"] == 1
    assert counts["w:useless bot"] == 1
    assert counts["c: us"] == 1
    assert counts["c:bot "] == 1
    assert not any(name.startswith("c:") and " " in name[2:].strip() for name in counts)


@pytest.mark.parametrize(
    ("angry", "calm"),
    [
        ("this is ridiculous, absolutely useless", "how do I reset my password?"),
        ("I am so angry with your service", "where can I download my invoice?"),
        ("worst support I have ever had", "thanks, that sorted it"),
    ],
)
def test_frustrated_words_score_higher_than_calm_ones(angry: str, calm: str) -> None:
    assert probability(angry) > 0.7 > 0.3 > probability(calm)


def test_scores_are_probabilities() -> None:
    for text in ("", "a", "!!!", "x" * 5000, "日本語のテキスト"):
        assert 0.0 <= probability(text) <= 1.0


@pytest.mark.parametrize("text", ["hjkl hjkl hjkl", "asdfgh", "sdfsdf sdf", "qwxz jkjk"])
def test_keyboard_mashing_scores_far_below_words(text: str) -> None:
    mashing = MODEL.char_log_prob(text)

    assert mashing is not None
    assert mashing < -3.5


@pytest.mark.parametrize(
    "text",
    [
        "I want a refund",
        "my invoice is wrong",
        "where is order 4411?",
        "Kann ich die Rechnung herunterladen?",
        "lol that's great",
    ],
)
def test_words_score_above_the_gibberish_limit(text: str) -> None:
    value = MODEL.char_log_prob(text)

    assert value is not None
    assert value > -3.5


def test_too_few_letters_cannot_be_judged() -> None:
    assert MODEL.char_log_prob("ok") is None
    assert MODEL.char_log_prob("12345 678") is None


def test_a_model_needs_a_full_table() -> None:
    with pytest.raises(ValueError, match="bigram_log_probs"):
        TextModel(terms={}, sentiment=(0.0,) * 4, intercept=0.0, bigram_log_probs=((0.0,),))
    with pytest.raises(ValueError, match="sentiment"):
        TextModel(terms={}, sentiment=(), intercept=0.0, bigram_log_probs=())


# --- weights on disk ---------------------------------------------------------------------------


def test_weights_round_trip(tmp_path: Path) -> None:
    weights = load_weights()
    path = tmp_path / "weights.json.gz"

    dump_weights(weights, path)
    again = load_weights(path)

    assert again.data_sha256 == weights.data_sha256
    assert again.model.terms == weights.model.terms
    neutral = Sentiment(negative=0.0, positive=0.0, compound=0.0)
    assert again.model.probability("useless", neutral) == weights.model.probability(
        "useless", neutral
    )


def test_missing_or_broken_weights_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(tmp_path / "none.json.gz")
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(WeightsError, match="cannot read"):
        load_weights(broken)
    partial = tmp_path / "partial.json.gz"
    partial.write_bytes(gzip.compress(b'{"format": 1}'))
    with pytest.raises(WeightsError, match="malformed weights"):
        load_weights(partial)


def test_training_data_lines_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv.gz"
    path.write_bytes(gzip.compress(b"1\tfine\nmaybe\tnot a label\n"))

    with pytest.raises(WeightsError, match=r"data\.tsv\.gz:2: expected"):
        read_training_data(path)


def test_weights_of_other_data_do_not_match() -> None:
    weights = load_weights()
    other = LabelledData(("x",), (False,), "0" * 64)
    moved = type(weights)(model=weights.model, data_sha256=other.sha256, settings=weights.settings)

    assert mismatch(weights, moved, ()) == "the committed weights were trained on other data"


def test_the_shipped_data_is_what_the_weights_were_trained_on() -> None:
    # The NLU's examples join the GoEmotions texts: their hash covers both.
    assert SHIPPED_TRAINING_DATA.exists()
    assert (SHIPPED_TRAINING_DATA.parent / "LICENSE-goemotions.txt").exists()


def test_auroc_counts_ties_half_and_needs_both_kinds() -> None:
    assert auroc([(True, 0.9), (False, 0.1)]) == 1.0
    assert auroc([(True, 0.1), (False, 0.9)]) == 0.0
    assert auroc([(True, 0.5), (False, 0.5)]) == 0.5
    assert auroc([(True, 0.9), (True, 0.2), (False, 0.5)]) == 0.5
    assert auroc([(True, 0.9)]) is None
