"""The all-MiniLM-L6-v2 encoder: fp32 against values sentence-transformers computed, and
int8 (what the service runs) against fp32.

The expected numbers were computed once with sentence-transformers 6.3 (torch 2.13, CPU) on
the same package's files: ``SentenceTransformer(model_dir)`` with ``max_seq_length = 128``,
``encode(texts, normalize_embeddings=True)``; components 0, 1, 2, 100, 200 and 383 and two
cosine similarities are kept. Over 357 CLINC150, Banking77 and odd texts the two agreed to
a cosine of 0.9999999 or better. The int8 encoder is checked against the fp32 one by cosine
(its vectors cannot match sentence-transformers' to six decimals); over CLINC150's 3,000 val
queries the two agree to a cosine of 0.992 on average, 0.964 at worst (`tandem bench
minilm`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu.minilm import EncoderUnavailable, MiniLmEncoder
from nlu.minilm_graph import int8_columns
from nlu.packages import installed_folder

ENCODER = MiniLmEncoder.from_package(precision="fp32")
INT8 = MiniLmEncoder.from_package()
COMPONENTS = [0, 1, 2, 100, 200, 383]
KNOWN = {
    "How do I reset my password?": [0.006903, -0.063023, -0.072044, 0.045606, -0.028549, -0.076237],
    "I want my money back, this is useless!": [
        -0.025379,
        0.061976,
        -0.065139,
        0.021943,
        0.01749,
        0.028419,
    ],
    "hjkl hjkl hjkl": [-0.066337, 0.136388, 0.032489, 0.030777, 0.053871, 0.020303],
}
# 400 words: cut at 128 tokens.
LONG = "please help me " * 100
LONG_KNOWN = [0.001015, 0.060106, 0.005435, 0.082128, 0.023394, -0.072746]


def test_a_batch_gives_the_values_sentence_transformers_gives() -> None:
    vectors = ENCODER.encode([*KNOWN, LONG])

    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    for row, expected in enumerate([*KNOWN.values(), LONG_KNOWN]):
        assert vectors[row, COMPONENTS] == pytest.approx(expected, abs=2e-6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.249133, abs=1e-5)
    assert float(vectors[0] @ vectors[2]) == pytest.approx(0.124302, abs=1e-5)


def test_one_text_alone_reads_as_it_does_in_a_padded_batch() -> None:
    texts = ["hi", *KNOWN, "", "where is my card? it has been two weeks"]
    batch = ENCODER.encode(texts)

    for row, text in enumerate(texts):
        alone = ENCODER.encode([text])
        assert alone.shape == (1, 384)
        assert np.allclose(alone[0], batch[row], atol=1e-5)


def test_int8_vectors_point_where_the_fp32_ones_do() -> None:
    texts = ["hi", *KNOWN, LONG, "where is my card? it has been two weeks"]
    cosines = np.sum(INT8.encode(texts) * ENCODER.encode(texts), axis=1)

    assert cosines.min() > 0.98
    assert float(INT8.encode([texts[1]])[0] @ INT8.encode([texts[2]])[0]) == pytest.approx(
        0.249133, abs=0.01
    )


def test_int8_reads_a_text_in_a_batch_exactly_as_alone() -> None:
    # Its products quantize their input with one scale per call: each text is read alone.
    texts = ["hi", *KNOWN, "", "where is my card? it has been two weeks"]
    batch = INT8.encode(texts)

    for row, text in enumerate(texts):
        assert np.array_equal(INT8.encode([text])[0], batch[row])


def test_int8_codes_are_each_columns_weights_within_half_a_step() -> None:
    weight = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [2.0, 1.0, -0.01]], np.float32)
    codes, scales = int8_columns(weight)

    assert codes.dtype == np.int8
    assert codes.shape == (3, 3)  # (inputs, outputs)
    assert np.abs(codes).max() == 127
    assert np.all(np.abs(codes * scales - weight.T) <= scales / 2 + 1e-7)
    assert np.all(codes[:, 1] == 0)


def test_a_repeated_text_comes_from_the_cache_and_the_caller_may_change_its_copy() -> None:
    first = ENCODER.encode(["is my transfer pending"])
    first[0, :] = 0.0
    again = ENCODER.encode(["is my transfer pending"])

    assert np.linalg.norm(again[0]) == pytest.approx(1.0, abs=1e-5)
    assert again.flags.writeable


def test_no_texts_give_no_rows() -> None:
    assert ENCODER.encode([]).shape == (0, 384)


def test_a_folder_without_the_model_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="cannot read"):
        MiniLmEncoder.from_folder(tmp_path)


def test_a_missing_package_is_a_typed_error_that_says_how_to_install_it() -> None:
    with pytest.raises(EncoderUnavailable, match="not installed \\(make setup"):
        installed_folder("tandem_no_such_model", missing=EncoderUnavailable, install="make setup")
