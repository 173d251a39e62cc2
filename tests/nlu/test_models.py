"""ModelStore: the models folder, its ``current`` pointer, pruning and the training lock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlu.errors import TrainingError
from nlu.models import ModelStore


def trained_model(staging: Path, name: str, content: str = "model") -> Path:
    """A file where Rasa would have written a freshly trained model."""
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{name}.tar.gz"
    path.write_text(content, encoding="utf-8")
    return path


def stored_models(directory: Path, count: int) -> list[str]:
    """``count`` model files already in the folder, oldest first."""
    names = [f"nlu-2026010{n}-120000-000000.tar.gz" for n in range(1, count + 1)]
    for name in names:
        (directory / name).write_text(name, encoding="utf-8")
    return names


def test_empty_folder_has_no_current_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")

    assert store.current() is None
    assert store.current_fingerprint() is None
    assert store.models() == []
    assert store.prune() == []


def test_install_makes_the_model_current(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.directory.mkdir()
    trained = trained_model(tmp_path / "staging", "nlu-20261121-083744-000001", "weights")

    installed = store.install(trained, fingerprint="0123456789abcdef")

    assert installed == store.directory / "nlu-20261121-083744-000001.tar.gz"
    assert installed.read_text(encoding="utf-8") == "weights"
    assert not trained.exists()
    assert store.current() == installed
    assert store.current_fingerprint() == "0123456789abcdef"
    assert store.models() == [installed]
    # A fresh store on the same folder (another process) sees the same.
    assert ModelStore(store.directory).current() == installed


def test_install_copy_keeps_the_original_and_copies_its_examples(tmp_path: Path) -> None:
    original = trained_model(tmp_path / "operator", "nlu-20261121-083744-000001", "weights")
    ModelStore.examples_file(original).write_text('{"examples": []}', encoding="utf-8")
    store = ModelStore(tmp_path / "copy")

    installed = store.install_copy(original)

    assert store.current() == installed == store.directory / original.name
    assert installed.read_text(encoding="utf-8") == "weights"
    assert ModelStore.examples_file(installed).read_text(encoding="utf-8") == '{"examples": []}'
    assert original.is_file()
    assert ModelStore.examples_file(original).is_file()
    assert sorted(path.name for path in store.directory.iterdir()) == [
        "current",
        "nlu-20261121-083744-000001.examples.json",
        "nlu-20261121-083744-000001.tar.gz",
    ]


def test_install_without_fingerprint(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    installed = store.install(trained_model(tmp_path / "staging", "nlu-20261121-083744-000001"))

    assert store.current() == installed
    assert store.current_fingerprint() is None


def test_a_newer_install_replaces_the_current_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    first = store.install(
        trained_model(tmp_path / "a", "nlu-20261121-083744-000001"), fingerprint="aaaa"
    )
    second = store.install(
        trained_model(tmp_path / "b", "nlu-20261122-083744-000001"), fingerprint="bbbb"
    )

    assert store.current() == second
    assert store.current_fingerprint() == "bbbb"
    assert store.models() == [first, second]


def test_pointer_to_a_missing_file_means_no_current_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    (tmp_path / "current").write_text(
        "nlu-20261121-083744-000001.tar.gz\nabcdef\n", encoding="utf-8"
    )

    assert store.current() is None
    assert store.current_fingerprint() is None


def test_empty_pointer_means_no_current_model(tmp_path: Path) -> None:
    stored_models(tmp_path, 1)
    (tmp_path / "current").write_text("", encoding="utf-8")

    assert ModelStore(tmp_path).current() is None


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    names = stored_models(tmp_path, 5)
    store = ModelStore(tmp_path, keep=2)

    removed = store.prune()

    assert [path.name for path in removed] == names[:3]
    assert [path.name for path in store.models()] == names[3:]


def test_install_prunes_to_keep(tmp_path: Path) -> None:
    names = stored_models(tmp_path, 4)
    store = ModelStore(tmp_path, keep=3)

    installed = store.install(trained_model(tmp_path / "staging", "nlu-20261121-083744-000001"))

    assert [path.name for path in store.models()] == [*names[2:], installed.name]
    assert store.current() == installed


def test_prune_never_removes_the_current_model_even_the_oldest(tmp_path: Path) -> None:
    names = stored_models(tmp_path, 5)
    (tmp_path / "current").write_text(f"{names[0]}\nfeedface\n", encoding="utf-8")
    store = ModelStore(tmp_path, keep=2)

    removed = store.prune()

    assert [path.name for path in removed] == names[1:4]
    assert [path.name for path in store.models()] == [names[0], names[4]]
    assert store.current() == tmp_path / names[0]
    assert store.current_fingerprint() == "feedface"


def test_keep_is_at_least_one(tmp_path: Path) -> None:
    names = stored_models(tmp_path, 3)
    (tmp_path / "current").write_text(f"{names[1]}\n", encoding="utf-8")
    store = ModelStore(tmp_path, keep=0)

    store.prune()

    assert [path.name for path in store.models()] == [names[1]]


def test_prune_ignores_other_files(tmp_path: Path) -> None:
    names = stored_models(tmp_path, 3)
    other = tmp_path / "notes.txt"
    other.write_text("keep me", encoding="utf-8")

    ModelStore(tmp_path, keep=1).prune()

    assert other.exists()
    assert [path.name for path in ModelStore(tmp_path).models()] == names[2:]


def test_new_model_names_sort_chronologically() -> None:
    moments = [
        datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 10, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 6, 0, tzinfo=UTC),
        datetime(2026, 1, 2, 10, 0, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 0, 0, 0, 0, tzinfo=UTC),
    ]
    names = [ModelStore.new_model_name(moment) for moment in moments]

    assert sorted(reversed(names)) == names
    assert len(set(names)) == len(names)
    assert names[1] == "nlu-20260102-030405-000007"


def test_new_model_name_without_a_time_uses_the_same_format() -> None:
    assert re.fullmatch(r"nlu-\d{8}-\d{6}-\d{6}", ModelStore.new_model_name())


def test_training_slot_gives_a_staging_folder_removed_afterwards(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")

    with store.training_slot() as staging:
        assert staging.is_dir()
        assert staging.parent == store.directory
        (staging / "partial.tar.gz").write_text("half-trained", encoding="utf-8")

    assert not staging.exists()
    assert store.models() == []


def test_training_slot_is_removed_when_training_fails(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)

    with pytest.raises(TrainingError, match="rasa train failed"), store.training_slot() as staging:
        raise TrainingError("rasa train failed")

    assert not staging.exists()


def test_a_second_training_slot_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    first, second = ModelStore(tmp_path), ModelStore(tmp_path)

    with first.training_slot() as staging:
        with pytest.raises(TrainingError, match="another training run"), second.training_slot():
            pass  # never reached
        assert staging.is_dir()  # the refused attempt left the running one alone

    with second.training_slot() as again:  # free again once the first one ended
        assert again.is_dir()


def test_training_slots_on_different_folders_do_not_interfere(tmp_path: Path) -> None:
    with (
        ModelStore(tmp_path / "a").training_slot() as a,
        ModelStore(tmp_path / "b").training_slot() as b,
    ):
        assert a.is_dir()
        assert b.is_dir()
