"""The embedding model follows the NLU model: the examples kept beside a model, the swap
of the parser's embedding model, and the refit for each new model (real WordLlama files,
a few inline examples)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from nlu.models import ModelStore
from nlu.parsing import IntentScore, ModelStatus, ParseResult
from nlu.refit import EmbeddingRefitter, follow_status, local_model
from nlu.semantic import ExampleModel, LabelledText, SemanticParser
from nlu.sentences import StaticEmbeddings
from nlu.snapshots import SnapshotError, examples_of, read_snapshot, write_snapshot
from tests.support.fakes import ScriptedNlu

ENCODER = StaticEmbeddings.from_wordllama()
OLD = [
    LabelledText(text, intent)
    for intent, texts in {
        "greet": ["hello", "hi there", "good morning"],
        "pricing": ["how much does the pro plan cost", "what is the price"],
    }.items()
    for text in texts
]
TAUGHT = "my parrot swallowed the router cable"
NEW = [*OLD, LabelledText(TAUGHT, "pet_damage"), LabelledText("the dog ate my modem", "pet_damage")]
DATA_YML = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hey\n' + (
    "- intent: goodbye\n  examples: |\n    - bye\n    - see you\n"
)


def _model_file(folder: Path, name: str = "nlu-20261206-210000-000001") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.tar.gz"
    model.write_bytes(b"weights")
    return model


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(DATA_YML, encoding="utf-8")
    return data


# --- the examples file ------------------------------------------------------------------


def test_a_snapshot_reads_back_what_was_written_beside_the_model(tmp_path: Path) -> None:
    model = _model_file(tmp_path)

    written = write_snapshot(model, NEW)

    assert written == tmp_path / "nlu-20261206-210000-000001.examples.json"
    assert read_snapshot(model) == NEW
    assert read_snapshot(_model_file(tmp_path, "nlu-other")) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{not json", "not an examples file"),
        ('{"version": 1, "examples": [{"intent": "greet"}]}', "not an examples file"),
        ('{"version": 9, "examples": []}', "has version 9"),
    ],
)
def test_a_corrupt_snapshot_is_a_clear_error(tmp_path: Path, body: str, problem: str) -> None:
    model = _model_file(tmp_path)
    ModelStore.examples_file(model).write_text(body, encoding="utf-8")

    with pytest.raises(SnapshotError, match=problem):
        read_snapshot(model)


def test_without_a_readable_snapshot_the_examples_come_from_the_data_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _data(tmp_path)
    model = _model_file(tmp_path / "models")
    from_data = {("greet", "hello"), ("greet", "hey"), ("goodbye", "bye"), ("goodbye", "see you")}

    def read() -> set[tuple[str, str]]:
        return {(e.intent, e.text) for e in examples_of(model, data)}

    with caplog.at_level(logging.WARNING, logger="nlu.snapshots"):
        assert read() == from_data
    assert "has no examples file" in caplog.text
    caplog.clear()
    ModelStore.examples_file(model).write_text("[]", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="nlu.snapshots"):
        assert read() == from_data
    assert "not an examples file" in caplog.text
    write_snapshot(model, OLD)
    assert examples_of(model, data) == OLD
    assert {(e.intent, e.text) for e in examples_of(None, data)} == from_data
    assert examples_of(None, tmp_path / "nowhere") == []


def test_the_store_installs_and_prunes_the_snapshot_with_its_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", keep=1)
    store.directory.mkdir()
    first = _model_file(tmp_path / "staging", "nlu-20261206-210000-000001")
    write_snapshot(first, OLD)

    installed = store.install(first)

    assert read_snapshot(installed) == OLD
    assert not ModelStore.examples_file(first).exists()
    second = store.install(_model_file(tmp_path / "staging", "nlu-20261206-210000-000002"))
    assert store.current() == second
    assert not installed.exists()
    assert not ModelStore.examples_file(installed).exists()


# --- the swap and the refit ---------------------------------------------------------------


class GatedNlu:
    """Rasa that answers only when the test opens the gate: a parse held in flight."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def parse(self, text: str) -> ParseResult:
        self.started.set()
        await self.gate.wait()
        score = IntentScore("pet_damage", 0.9)
        return ParseResult(text=text, intent=score, ranking=(score,), entities=())


async def test_a_parse_in_flight_keeps_the_model_it_began_with() -> None:
    old = ExampleModel(encoder=ENCODER, examples=OLD)
    rasa = GatedNlu()
    parser = SemanticParser(inner=rasa, model=old, rasa_weight=0.5)

    in_flight = asyncio.create_task(parser.parse(TAUGHT))
    await rasa.started.wait()
    parser.swap(ExampleModel(encoder=ENCODER, examples=NEW))
    rasa.gate.set()
    before = await in_flight
    after = await parser.parse(TAUGHT)

    assert before.similarity is None  # the old model knew no pet_damage example
    assert after.similarity == pytest.approx(1.0, abs=1e-4)
    assert parser.model is not old


def _refitter(tmp_path: Path) -> tuple[SemanticParser, EmbeddingRefitter, Path]:
    first = _model_file(tmp_path / "models", "nlu-20261206-210000-000001")
    write_snapshot(first, OLD)
    parser = SemanticParser(
        inner=ScriptedNlu(table={TAUGHT: [("pet_damage", 0.9), ("greet", 0.05)]}),
        model=ExampleModel(encoder=ENCODER, examples=OLD, regularisation=10.0),
        rasa_weight=0.5,
    )
    refitter = EmbeddingRefitter(parser=parser, data_dir=_data(tmp_path), followed=first)
    return parser, refitter, first


async def test_a_new_model_refits_the_embeddings_on_its_examples(tmp_path: Path) -> None:
    parser, refitter, first = _refitter(tmp_path)
    second = _model_file(tmp_path / "models", "nlu-20261206-210000-000002")
    write_snapshot(second, NEW)

    assert not await refitter.follow(first)  # the model it was fitted for
    assert (await parser.parse(TAUGHT)).similarity is None
    assert await refitter.follow(second)

    assert refitter.followed == second
    assert "pet_damage" in parser.model.intents
    assert parser.model.encoder is ENCODER  # the vectors are loaded once
    assert parser.model.regularisation == 10.0  # the encoder's own, kept
    assert (await parser.parse(TAUGHT)).similarity == pytest.approx(1.0, abs=1e-4)


async def test_a_failed_refit_keeps_the_old_model_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parser, refitter, _ = _refitter(tmp_path)
    old = parser.model
    broken = _model_file(tmp_path / "models", "nlu-20261206-210000-000003")
    write_snapshot(broken, [LabelledText("hello", "greet")])  # one intent: nothing to fit

    with caplog.at_level(logging.WARNING, logger="nlu.refit"):
        assert not await refitter.follow(broken)

    assert parser.model is old
    assert "could not refit the embedding model" in caplog.text
    assert "the old one keeps serving" in caplog.text
    assert (await parser.parse("hello")).intent is not None


# --- a Rasa at RASA_URL ------------------------------------------------------------------


def test_a_reported_model_file_is_found_here(tmp_path: Path) -> None:
    ours = _model_file(tmp_path / "models")

    assert local_model(str(ours), tmp_path / "elsewhere") == ours
    assert local_model(f"/srv/models/{ours.name}", tmp_path / "models") == ours
    assert local_model("/srv/models/nlu-x.tar.gz", tmp_path) == Path("/srv/models/nlu-x.tar.gz")
    assert local_model(None, tmp_path) is None


class ReportingRasa:
    """A Rasa's /status: the model it serves, as the test sets it."""

    def __init__(self, model_file: str) -> None:
        self.model_file = model_file
        self.asked = asyncio.Event()

    async def status(self) -> ModelStatus:
        self.asked.set()
        return ModelStatus(model_file=self.model_file, model_id=None)


async def test_the_embeddings_follow_the_model_a_rasa_at_rasa_url_reports(tmp_path: Path) -> None:
    parser, refitter, first = _refitter(tmp_path)
    second = _model_file(tmp_path / "models", "nlu-20261206-210000-000002")
    write_snapshot(second, NEW)
    rasa = ReportingRasa(f"/srv/rasa/{first.name}")
    follower = asyncio.create_task(
        follow_status(rasa, refitter, models_dir=tmp_path / "models", interval=0.01)
    )
    try:
        await rasa.asked.wait()
        assert refitter.followed == first
        rasa.model_file = f"/srv/rasa/{second.name}"
        # The poll after this one starts once the refit for what this one saw has ended.
        for _ in range(2):
            rasa.asked.clear()
            await rasa.asked.wait()
    finally:
        follower.cancel()
    assert refitter.followed == second
    assert (await parser.parse(TAUGHT)).similarity == pytest.approx(1.0, abs=1e-4)
