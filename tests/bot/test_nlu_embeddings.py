"""The composition root puts the embedding model beside Rasa when there is data to fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import semantic_nlu
from bot.settings import Settings, load_settings
from nlu.semantic import SemanticParser
from tests.support.fakes import ScriptedNlu


def _settings(tmp_path: Path, nlu_section: str) -> Settings:
    config = tmp_path / "tandem.yml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nnlu:\n{nlu_section}", encoding="utf-8")
    return load_settings(config, environ={})


def test_the_service_reranks_rasa_with_a_model_of_the_shipped_examples(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"  project_dir: {Path(__file__).parents[2] / 'nlu'}\n")
    rasa = ScriptedNlu()

    assert isinstance(semantic_nlu(settings, rasa), SemanticParser)


@pytest.mark.parametrize(
    "section", ["  project_dir: nowhere\n", "  project_dir: nowhere\n  embeddings: false\n"]
)
def test_without_training_data_or_when_turned_off_rasa_runs_alone(
    tmp_path: Path, section: str
) -> None:
    rasa = ScriptedNlu()

    assert semantic_nlu(_settings(tmp_path, section), rasa) is rasa
