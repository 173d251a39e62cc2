"""A worker's identity in the lane order: its own across restarts, no other worker's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import worker_identity


def test_a_worker_restarted_on_its_journal_is_the_same_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    journal = tmp_path / "a" / "intake"
    assert worker_identity(journal) == worker_identity(Path("a") / "intake")
    assert worker_identity(journal) != worker_identity(tmp_path / "b" / "intake")
