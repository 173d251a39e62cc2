"""The benchmark's private models folder: a copy of the operator's model, with what the
service reads beside it."""

from __future__ import annotations

from pathlib import Path

from bot.bench.rasa import private_store
from nlu.models import ModelStore


def test_the_copy_keeps_the_examples_the_model_was_trained_on(tmp_path: Path) -> None:
    operator = tmp_path / "models"
    operator.mkdir()
    model = operator / "nlu-20261207-042747-526669.tar.gz"
    model.write_bytes(b"model")
    ModelStore.examples_file(model).write_text('{"examples": []}', encoding="utf-8")

    store = private_store(model, tmp_path / "bench")

    copy = store.current()
    assert copy is not None
    assert copy.parent == tmp_path / "bench"
    assert copy.read_bytes() == b"model"
    assert ModelStore.examples_file(copy).read_text(encoding="utf-8") == '{"examples": []}'
    assert model.is_file()
    assert ModelStore.examples_file(model).is_file()


def test_a_model_without_examples_is_copied_alone(tmp_path: Path) -> None:
    operator = tmp_path / "models"
    operator.mkdir()
    model = operator / "nlu-20261207-042747-526669.tar.gz"
    model.write_bytes(b"model")

    copy = private_store(model, tmp_path / "bench").current()

    assert copy is not None
    assert not ModelStore.examples_file(copy).exists()
