"""The composition root puts the embedding model beside Rasa when there is data to fit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import open_nlu, semantic_nlu
from bot.settings import Settings, load_settings
from nlu.semantic import LabelledText, SemanticParser, training_texts
from nlu.snapshots import write_snapshot
from tests.nlu.test_client import Answer, FakeRasa
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


@pytest.fixture
async def fake_rasa(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeRasa]:
    """A Rasa at RASA_URL (its HTTP API, as the test scripts it)."""
    server = FakeRasa()
    await server.start()
    monkeypatch.setenv("RASA_URL", server.url)
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    try:
        yield server
    finally:
        await server.stop()


TAUGHT = "the export button turns my spreadsheet into hieroglyphs"


def _parse_answer(text: str) -> dict[str, object]:
    intent = {"name": "bug_report", "confidence": 0.9}
    return {"text": text, "intent": intent, "intent_ranking": [intent], "entities": []}


async def test_with_rasa_url_the_embeddings_follow_the_model_rasa_reports(
    tmp_path: Path, fake_rasa: FakeRasa
) -> None:
    rasa = fake_rasa
    models = tmp_path / "models"
    models.mkdir()
    shipped = training_texts(Path(__file__).parents[2] / "nlu" / "data")
    first, second = (models / f"nlu-20261206-21000{n}-000000.tar.gz" for n in (1, 2))
    for model, examples in (
        (first, shipped),
        (second, [*shipped, LabelledText(TAUGHT, "bug_report")]),
    ):
        model.write_bytes(b"weights")
        write_snapshot(model, examples)
    config = tmp_path / "tandem.yml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nnlu:\n  project_dir: {Path(__file__).parents[2] / 'nlu'}\n"
        f"  models_dir: {models}\n  server:\n    model_check_interval: 0.05\n",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    # Rasa runs elsewhere: it names the model by its path there, ours has the same name.
    rasa.answer("GET", "/status", Answer(json_body={"model_file": f"/srv/{first.name}"}))
    rasa.answer("POST", "/model/parse", Answer(json_body=_parse_answer(TAUGHT)))

    async with open_nlu(settings) as nlu:
        before = await nlu.parse(TAUGHT)
        rasa.answer("GET", "/status", Answer(json_body={"model_file": f"/srv/{second.name}"}))
        assert isinstance(nlu, SemanticParser)
        fitted = nlu.model
        for _ in range(600):  # polled every 0.05 s; the refit runs in a thread
            if nlu.model is not fitted:
                break
            await asyncio.sleep(0.05)
        after = await nlu.parse(TAUGHT)

    assert before.similarity is not None
    assert before.similarity < 0.95
    assert after.similarity == pytest.approx(1.0, abs=1e-3)
