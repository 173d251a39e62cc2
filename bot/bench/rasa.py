"""The models the benchmark serves: copies of the operator's current model, each in a
models folder of its own, so that nothing the benchmark starts stops (as an orphan) or
reloads anything of a running service's."""

from __future__ import annotations

from pathlib import Path

from bot.bench.errors import BenchError
from nlu.environment import RasaEnvironment
from nlu.models import ModelStore
from nlu.server import ManagedRasaServer
from nlu.vector_store import copy_vectors


def current_model(store: ModelStore) -> Path:
    model = store.current()
    if model is None:
        raise BenchError(f"no trained NLU model in {store.directory}: run `tandem nlu train`")
    return model


def private_store(model: Path, directory: Path) -> ModelStore:
    """A new models folder whose current model is a copy of ``model``, with the examples it
    was trained on and their vectors kept beside it (a service started there fits its
    embedding model on them, without encoding them again)."""
    copy_vectors(model.parent, directory)
    store = ModelStore(directory)
    store.install_copy(model)
    return store


def bare_rasa(
    *, environment: RasaEnvironment, model: Path, directory: Path, startup_timeout: float
) -> ManagedRasaServer:
    """A Rasa server on ``model``, started the way the service starts its own."""
    return ManagedRasaServer(
        environment=environment,
        store=private_store(model, directory),
        startup_timeout=startup_timeout,
        # Generous: a benchmark measures latency; a slow parse must not end the run.
        parse_timeout=30.0,
    )
