"""The embedding model follows the NLU model: when Rasa serves a new model, the embedding
model is refitted on the examples that model was trained on (:mod:`nlu.snapshots`) and
swapped into the :class:`~nlu.semantic.SemanticParser`, without a restart.

The managed Rasa server announces each model it loads (``on_model_loaded``); a Rasa at
``RASA_URL`` is asked which model it serves (``GET /status``) every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Protocol

from nlu.errors import NluUnavailable
from nlu.parsing import ModelStatus
from nlu.semantic import ExampleModel, SemanticParser
from nlu.snapshots import examples_of

logger = logging.getLogger(__name__)


class EmbeddingRefitter:
    """Refits ``parser``'s embedding model for each new NLU model it is told of."""

    def __init__(self, *, parser: SemanticParser, data_dir: Path, followed: Path | None) -> None:
        self._parser = parser
        self._data_dir = data_dir
        # The NLU model the last finished fit was for (or failed for).
        self._followed = followed
        self._lock = asyncio.Lock()  # one fit at a time: the last model told wins

    @property
    def followed(self) -> Path | None:
        return self._followed

    async def follow(self, model: Path) -> bool:
        """Refit for ``model`` unless already done; True if a new embedding model serves.
        A failed fit keeps the old one, with a warning: parsing never breaks over it."""
        async with self._lock:
            if model == self._followed:
                return False
            started = time.perf_counter()
            try:
                fitted = await asyncio.to_thread(self._fit, model)
            # Any error: scikit-learn and numpy raise assorted ones, and the old model
            # serving on beats a watcher that dies and never follows again.
            except Exception as exc:
                # Tried once per model: a failing fit is not retried (and warned) every poll.
                self._followed = model
                logger.warning(
                    "could not refit the embedding model for NLU model %s (the old one keeps "
                    "serving): %s",
                    model.name,
                    exc,
                )
                return False
            self._parser.swap(fitted)
            self._followed = model
        logger.info(
            "embedding model refitted for NLU model %s on %d intents in %.2f s",
            model.name,
            len(fitted.intents),
            time.perf_counter() - started,
        )
        return True

    def _fit(self, model: Path) -> ExampleModel:
        examples = examples_of(model, self._data_dir)
        current = self._parser.model
        return ExampleModel(
            encoder=current.encoder, examples=examples, regularisation=current.regularisation
        )


class StatusSource(Protocol):
    async def status(self) -> ModelStatus: ...


def local_model(model_file: str | None, models_dir: Path) -> Path | None:
    """The file a Rasa's ``model_file`` names, here: as given if it exists (the same
    machine), else by its name in our models folder (a shared one), else as given."""
    if not model_file:
        return None
    given = Path(model_file)
    if given.is_file():
        return given
    ours = models_dir / given.name
    return ours if ours.is_file() else given


async def follow_status(
    rasa: StatusSource, refitter: EmbeddingRefitter, *, models_dir: Path, interval: float
) -> None:
    """Refit whenever the Rasa at ``RASA_URL`` reports another model; runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            status = await rasa.status()
        except NluUnavailable:
            continue  # said by the parses already; the next poll asks again
        model = local_model(status.model_file, models_dir)
        if model is not None:
            await refitter.follow(model)
