"""Real Rasa: train the shipped data, serve it, parse real sentences, reload, restart.

Needs Rasa's environment (`tandem nlu setup`, which `make test` runs first). These tests
are marked ``rasa``; `pytest -m "not rasa"` leaves them out of a quick local loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from nlu.environment import RasaEnvironment, default_environment_path
from nlu.errors import NluUnavailable, TrainingError
from nlu.models import ModelStore
from nlu.refit import EmbeddingRefitter
from nlu.semantic import ExampleModel, SemanticParser
from nlu.sentences import StaticEmbeddings
from nlu.server import ManagedRasaServer
from nlu.snapshots import examples_of, read_snapshot
from nlu.training import Progress, TrainedModel, train_model, training_fingerprint

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def environment() -> RasaEnvironment:
    environment = RasaEnvironment(default_environment_path())
    if not environment.is_ready():
        pytest.fail(
            f"Rasa's environment is not set up at {environment.path}: run `tandem nlu setup`"
        )
    return environment


@pytest.fixture(scope="module")
def nlu_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trainers' folder, so a test can change the data."""
    copy = tmp_path_factory.mktemp("nlu")
    shutil.copytree(REPO / "nlu" / "data", copy / "data")
    shutil.copytree(REPO / "nlu" / "test_data", copy / "test_data")
    shutil.copy(REPO / "nlu" / "config.yml", copy / "config.yml")
    return copy


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    return ModelStore(tmp_path_factory.mktemp("models"), keep=3)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first_model(
    environment: RasaEnvironment, nlu_copy: Path, store: ModelStore
) -> tuple[TrainedModel, list[Progress]]:
    steps: list[Progress] = []
    trained = await train_model(
        environment=environment,
        config_file=nlu_copy / "config.yml",
        data_dir=nlu_copy / "data",
        store=store,
        on_progress=steps.append,
    )
    return trained, steps


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(
    environment: RasaEnvironment,
    store: ModelStore,
    first_model: tuple[TrainedModel, list[Progress]],
) -> AsyncIterator[ManagedRasaServer]:
    server = ManagedRasaServer(
        environment=environment,
        store=store,
        restart_delay_max=1.0,
        parse_timeout=10.0,
        model_check_interval=0.5,
    )
    async with server:
        yield server


async def test_training_the_shipped_data_installs_a_current_model(
    first_model: tuple[TrainedModel, list[Progress]], store: ModelStore, nlu_copy: Path
) -> None:
    trained, steps = first_model
    assert store.current() == trained.path
    assert trained.path.name.startswith("nlu-")
    assert store.current_fingerprint() == training_fingerprint(
        nlu_copy / "config.yml", nlu_copy / "data"
    )
    # Progress named each trained component, numbered against the pipeline's length.
    assert steps
    assert steps[0].step == 1
    assert steps[0].total is not None
    assert any("LogisticRegressionClassifier" in step.message for step in steps)


@pytest.mark.parametrize(
    ("sentence", "intent"),
    [
        ("hello there", "greet"),
        ("I forgot my password and need to reset it", "reset_password"),
        ("I want my money back for last month", "refund_request"),
        ("let me talk to a real person please", "human_request"),
        ("how do I cancel my subscription", "cancel_subscription"),
        ("thanks a lot", "thanks"),
    ],
)
async def test_the_managed_server_parses_real_sentences(
    server: ManagedRasaServer, sentence: str, intent: str
) -> None:
    result = await server.parse(sentence)
    assert result.intent is not None
    assert result.intent.name == intent, result.ranking[:3]
    assert 0.0 < result.confidence <= 1.0
    assert result.ranking[0] == result.intent
    assert [s.confidence for s in result.ranking] == sorted(
        (s.confidence for s in result.ranking), reverse=True
    )


async def test_entities_come_back_with_the_parse(server: ManagedRasaServer) -> None:
    result = await server.parse("where is my order ORD-48213?")
    assert result.intent is not None
    assert result.intent.name == "order_status"
    assert ("order_id", "ORD-48213") in {(e.entity, e.value) for e in result.entities}


async def test_a_failed_training_keeps_the_last_good_model(
    environment: RasaEnvironment, nlu_copy: Path, store: ModelStore, server: ManagedRasaServer
) -> None:
    before = store.current()
    broken = nlu_copy / "broken-config.yml"
    broken.write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: x\npipeline:\n  - name: NoSuchComponent\n"
        "policies: []\n",
        encoding="utf-8",
    )
    with pytest.raises(TrainingError, match="the last good model is kept"):
        await train_model(
            environment=environment,
            config_file=broken,
            data_dir=nlu_copy / "data",
            store=store,
            on_progress=lambda _: None,
        )
    assert store.current() == before
    assert (await server.parse("hello")).intent is not None


async def test_a_new_model_is_loaded_without_restarting(
    environment: RasaEnvironment, nlu_copy: Path, store: ModelStore, server: ManagedRasaServer
) -> None:
    pid = server.pid
    # Trainers add an intent; the running server must pick it up.
    (nlu_copy / "data" / "pricing.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_pricing\n  examples: |\n'
        + "".join(
            f"    - {text}\n"
            for text in (
                "how much does the pro plan cost",
                "what are your prices",
                "pricing for the business tier",
                "how expensive is it per seat",
                "what does a licence cost",
                "price list please",
                "is there a discount for yearly billing on the price",
                "how much per user per month",
                "tell me the cost of your plans",
                "what's the monthly fee",
            )
        ),
        encoding="utf-8",
    )
    second = await train_model(
        environment=environment,
        config_file=nlu_copy / "config.yml",
        data_dir=nlu_copy / "data",
        store=store,
        on_progress=lambda _: None,
    )
    for _ in range(240):  # the watcher polls every 0.5 s; loading takes a few seconds
        if server.loaded_model == second.path:
            break
        await asyncio.sleep(0.5)
    assert server.loaded_model == second.path
    assert server.pid == pid, "the server must not restart to load a model"
    result = await server.parse("how much does the pro plan cost per month")
    assert result.intent is not None
    assert result.intent.name == "ask_pricing"


async def test_the_embedding_model_follows_a_new_model_without_restarting(
    environment: RasaEnvironment, nlu_copy: Path, store: ModelStore, server: ManagedRasaServer
) -> None:
    # The service's wiring (bot.app.open_nlu): fitted on the served model's examples,
    # refitted on each model the server loads.
    data = nlu_copy / "data"
    parser = SemanticParser(
        inner=server,
        model=ExampleModel(
            encoder=StaticEmbeddings.from_wordllama(),
            examples=examples_of(server.loaded_model, data),
        ),
        rasa_weight=0.5,
    )
    refitter = EmbeddingRefitter(parser=parser, data_dir=data, followed=server.loaded_model)
    server.on_model_loaded(refitter.follow)
    taught = "the export button turns my spreadsheet into hieroglyphs"
    before = await parser.parse(taught)
    assert before.similarity is not None
    assert before.similarity < 0.95
    # A trainer teaches it (`tandem nlu learn` appends to the data), then trains.
    (data / "taught.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: bug_report\n  examples: |\n    - {taught}\n',
        encoding="utf-8",
    )
    pid = server.pid
    third = await train_model(
        environment=environment,
        config_file=nlu_copy / "config.yml",
        data_dir=data,
        store=store,
        on_progress=lambda _: None,
    )
    snapshot = read_snapshot(third.path)
    assert snapshot is not None
    assert (taught, "bug_report") in {(e.text, e.intent) for e in snapshot}
    for _ in range(240):  # the watcher polls every 0.5 s; loading takes a few seconds
        if refitter.followed == third.path and server.loaded_model == third.path:
            break
        await asyncio.sleep(0.5)
    after = await parser.parse(taught)
    assert server.pid == pid, "neither Rasa nor the embeddings may need a restart"
    assert after.intent is not None
    assert after.intent.name == "bug_report", after.ranking[:3]
    assert after.similarity is not None
    # The taught text is its own nearest example now: well past policy.min_scope_score.
    assert after.similarity == pytest.approx(1.0, abs=1e-3)
    assert after.similarity + 0.7 * after.confidence >= 0.88


async def test_a_dead_server_is_restarted(server: ManagedRasaServer) -> None:
    pid = server.pid
    assert pid is not None
    restarts = server.restarts
    os.killpg(pid, signal.SIGKILL)

    async def parse_until_it_fails() -> None:
        for _ in range(100):  # until the supervisor notices the death
            await server.parse("hello")
            await asyncio.sleep(0.05)

    # While it is down, callers get the typed error at once (and hand off to a person).
    with pytest.raises(NluUnavailable):
        await parse_until_it_fails()
    for _ in range(600):
        if server.restarts > restarts and server.pid is not None:
            break
        await asyncio.sleep(0.2)
    assert server.restarts == restarts + 1
    assert server.pid != pid
    result = await server.parse("hello there")
    assert result.intent is not None
    assert result.intent.name == "greet"


async def test_the_cli_prints_real_evaluation_numbers(
    store: ModelStore, nlu_copy: Path, tmp_path: Path, first_model: object
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "tandem.yml").write_text(
        f"nlu:\n  project_dir: {nlu_copy}\n  models_dir: {store.directory}\n", encoding="utf-8"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "nlu", "test"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Evaluation: held-out test set")
    accuracy = float(lines[1].split()[1])
    assert 0.5 < accuracy <= 1.0
    assert any(line.startswith("reset_password ") for line in lines)
    assert any(line.startswith(("Most frequent confusions", "No confusions.")) for line in lines)
