"""Example vectors kept in the models folder: a second fit encodes only the new examples."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from nlu.concatenated import Concatenated
from nlu.encoders import sentence_encoder
from nlu.semantic import ExampleModel, LabelledText, Vectors
from nlu.vector_store import StoredVectors, copy_vectors, vectors_file


class CountingEncoder:
    """Vectors made from the texts' letters; remembers every text it encoded."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.encoded += texts
        rows = np.array(
            [[len(text), sum(map(ord, text)) % 97, text.count("a") + 1] for text in texts],
            dtype=np.float32,
        ).reshape(len(texts), 3)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows


EXAMPLES = [
    LabelledText("hello", "greet"),
    LabelledText("hi there", "greet"),
    LabelledText("what does it cost", "pricing"),
    LabelledText("the price please", "pricing"),
]


def test_a_second_fit_reads_the_vectors_back_and_encodes_only_new_examples(
    tmp_path: Path,
) -> None:
    path = tmp_path / "models" / "example-vectors.fake.npz"
    first = CountingEncoder()
    ExampleModel(
        encoder=StoredVectors(encoder=first, identity="fake v1", path=path), examples=EXAMPLES
    )
    assert len(first.encoded) == 4
    assert path.is_file()

    second = CountingEncoder()
    stored = StoredVectors(encoder=second, identity="fake v1", path=path)
    more = [*EXAMPLES, LabelledText("how much is it", "pricing")]
    vectors = stored.encode([example.text for example in more])

    assert second.encoded == ["how much is it"]
    assert np.allclose(vectors, CountingEncoder().encode([example.text for example in more]))


def test_a_copy_of_the_models_folder_starts_without_encoding(tmp_path: Path) -> None:
    texts = [example.text for example in EXAMPLES]
    StoredVectors(
        encoder=CountingEncoder(), identity="fake v1", path=vectors_file(tmp_path / "a", "fake")
    ).encode(texts)

    copy_vectors(tmp_path / "a", tmp_path / "b")
    encoder = CountingEncoder()
    StoredVectors(
        encoder=encoder, identity="fake v1", path=vectors_file(tmp_path / "b", "fake")
    ).encode(texts)

    assert encoder.encoded == []


def test_messages_are_never_looked_up_nor_kept(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    stored = StoredVectors(encoder=encoder, identity="fake v1", path=tmp_path / "v.npz")

    stored.encode(["hello"])
    stored.encode(["hello"])

    assert encoder.encoded == ["hello", "hello"]
    assert not (tmp_path / "v.npz").exists()


def test_vectors_of_another_encoder_revision_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    StoredVectors(encoder=CountingEncoder(), identity="fake v1", path=path).encode(["a", "b"])
    encoder = CountingEncoder()

    StoredVectors(encoder=encoder, identity="fake v2", path=path).encode(["a", "b"])

    assert encoder.encoded == ["a", "b"]


def test_an_unreadable_file_costs_a_warning_and_the_encoding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v.npz"
    path.write_bytes(b"not a zip file")
    encoder = CountingEncoder()

    with caplog.at_level(logging.WARNING):
        StoredVectors(encoder=encoder, identity="fake v1", path=path).encode(["a", "b"])

    assert encoder.encoded == ["a", "b"]
    assert "cannot read the stored example vectors" in caplog.text
    assert StoredVectors(encoder=encoder, identity="fake v1", path=path)._read().keys() == {
        "a",
        "b",
    }


def test_an_unwritable_folder_costs_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would be")
    stored = StoredVectors(encoder=CountingEncoder(), identity="x", path=blocker / "v.npz")

    with caplog.at_level(logging.WARNING):
        vectors = stored.encode(["a", "b"])

    assert vectors.shape == (2, 3)
    assert "cannot keep the example vectors" in caplog.text


def test_concatenated_vectors_are_unit_length_and_average_the_cosines() -> None:
    one, two = CountingEncoder(), CountingEncoder()
    both = Concatenated([one, two])

    vectors = both.encode(["hello", "the price please"])

    assert vectors.shape == (2, 6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    single = one.encode(["hello", "the price please"])
    assert float(vectors[0] @ vectors[1]) == pytest.approx(float(single[0] @ single[1]))


def test_the_named_encoders_keep_their_vectors_apart(tmp_path: Path) -> None:
    encoder = sentence_encoder("wordllama", store_dir=tmp_path)

    encoder.encode(["hello", "good morning"])

    assert [path.name for path in tmp_path.iterdir()] == ["example-vectors.wordllama.npz"]
