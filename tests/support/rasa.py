"""A real Rasa model trained once per test session on the shipped data, with its examples'
sentence vectors kept beside it as a service start keeps them (:mod:`nlu.vector_store`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nlu.encoders import DEFAULT_ENCODER, sentence_encoder
from nlu.environment import RasaEnvironment, default_environment_path
from nlu.models import ModelStore
from nlu.semantic import ExampleModel, training_texts
from nlu.training import train_model
from nlu.vector_store import copy_vectors

REPO = Path(__file__).resolve().parents[2]
TRAINING_LIMIT = 900.0  # seconds


def ready_environment() -> RasaEnvironment:
    environment = RasaEnvironment(default_environment_path())
    if not environment.is_ready():
        pytest.fail(
            f"Rasa's environment is not set up at {environment.path}: run `tandem nlu setup`"
        )
    return environment


def train_shipped_model(directory: Path) -> Path:
    """Train nlu/ as shipped into ``directory``, and fit the embedding model there as a
    service start does, which keeps the examples' vectors beside the model; return the
    model file."""
    store = ModelStore(directory)
    training = train_model(
        environment=ready_environment(),
        config_file=REPO / "nlu" / "config.yml",
        data_dir=REPO / "nlu" / "data",
        store=store,
        on_progress=lambda _: None,
    )
    # Bounded here: the fault suite's time limits leave set-up out (about 15 s quiet, a few
    # minutes on a host at load 10-15).
    trained = asyncio.run(asyncio.wait_for(training, TRAINING_LIMIT))
    keep_example_vectors(directory)
    return trained.path


def keep_example_vectors(directory: Path) -> None:
    """Encode the shipped examples with the default sentence encoder into ``directory``'s
    vector file: once a session, instead of at every service start (MiniLM: seconds of CPU
    each). A real encoding of the examples a test's service fits on; the texts it has not
    seen (a test that teaches) are encoded at its start, as in production."""
    encoder = sentence_encoder(DEFAULT_ENCODER, store_dir=directory)
    ExampleModel(encoder=encoder, examples=training_texts(REPO / "nlu" / "data"))


def store_with(model: Path, directory: Path) -> ModelStore:
    """A fresh models folder whose current model is a copy of ``model``, with the examples
    it was trained on and their vectors kept beside it: a service started there fits its
    embedding model on them, as a deployment does (without them it ran on Rasa alone, which
    production does not)."""
    copy_vectors(model.parent, directory)
    store = ModelStore(directory)
    store.install_copy(model)
    return store


def project_with(model: Path, root: Path) -> Path:
    """A project folder whose config serves ``model`` and the shipped replies; returns
    its config file."""
    models = store_with(model, root / "models")
    (root / "config").mkdir(parents=True)
    config = root / "config" / "tandem.yml"
    config.write_text(
        f"data_dir: {root / 'data'}\n"
        f"nlu:\n  models_dir: {models.directory}\n"
        f"conversation:\n  responses_file: {REPO / 'config' / 'responses.yml'}\n"
        f"  agents_file: {REPO / 'config' / 'agents.yml'}\n",
        encoding="utf-8",
    )
    return config
