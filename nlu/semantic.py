"""What sentence embeddings say about a message, beside Rasa: which intent's training
examples it reads like, and how close it comes to any of them.

Rasa's classifier sees words and letter n-grams; an embedding sees meaning ("cost" near
"price"), so the two err differently and their average ranks intents better than either
(CLINC150 val: ``tandem bench oos``). And a message far from every example of the intent
it was given is probably about something else: Rasa must name one of the intents it
knows, however unlike them the message is.

:class:`ExampleModel` is built from the training examples when the NLU starts (with
MiniLM, embedding the shipped 720 examples costs about 3 s of CPU the first time; their
vectors are kept in the models folder, :mod:`nlu.vector_store`, and read back in
milliseconds after), and built again, and swapped in, when a new NLU model is loaded
(:mod:`nlu.refit`); the encoder is injected (:class:`SentenceEncoder`; :mod:`nlu.minilm`
and :mod:`nlu.sentences` implement it, :mod:`nlu.encoders` picks one by name).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from nlu.encoders import DEFAULT_ENCODER, TUNINGS
from nlu.errors import NluError
from nlu.parsing import IntentScore, NluParser, ParseResult
from nlu.validation.examples import load_examples

Vectors = NDArray[np.float32]

# The classifier's regularisation (scikit-learn's C) unless the caller gives its encoder's
# own: the default encoder's, set on CLINC150 val (nlu.encoders.TUNINGS, beside Rasa's
# weight in the combined ranking).
REGULARISATION = TUNINGS[DEFAULT_ENCODER].regularisation
_MAX_ITER = 1000
# How many intents the combined ranking keeps (Rasa's default ranking length).
_RANKING_LENGTH = 10


class SentenceEncoder(Protocol):
    """Texts to unit-length vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class SemanticDataError(NluError):
    """The examples cannot make a model (fewer than two intents, an empty text)."""


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    intent: str


def training_texts(data_dir: Path) -> list[LabelledText]:
    """Every example in the trainers' data (``nlu/data``) as a customer would type it."""
    return [
        LabelledText(example.plain_text, intent)
        for intent, examples in load_examples([data_dir]).items()
        for example in examples
    ]


class ExampleModel:
    """The training examples as vectors, and a classifier over them."""

    def __init__(
        self,
        *,
        encoder: SentenceEncoder,
        examples: Sequence[LabelledText],
        regularisation: float = REGULARISATION,
    ) -> None:
        texts = [example.text for example in examples if example.text.strip()]
        labels = [example.intent for example in examples if example.text.strip()]
        if len(set(labels)) < 2:
            found = sorted(set(labels))
            raise SemanticDataError(
                f"the embedding model needs examples of at least two intents, got {found}"
            )
        # Imported here: scikit-learn takes seconds to import, and only building needs it.
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        self._encoder = encoder
        self.regularisation = regularisation
        vectors = encoder.encode(texts)
        classifier = LogisticRegression(C=regularisation, max_iter=_MAX_ITER, random_state=0)
        # One BLAS thread: on 2 busy cores, threads fighting over them made the fit of the
        # shipped data take 4.5 s instead of 0.07 s.
        with threadpool_limits(limits=1):
            classifier.fit(vectors, labels)
        self._intents: tuple[str, ...] = tuple(str(name) for name in classifier.classes_)
        # Scored by hand (a softmax over one matrix product): scikit-learn's checks cost
        # more than the arithmetic for one message.
        self._weights = np.ascontiguousarray(classifier.coef_.T, dtype=np.float32)
        self._bias = classifier.intercept_.astype(np.float32)
        by_intent = np.asarray(labels)
        self._examples = {
            intent: np.ascontiguousarray(vectors[by_intent == intent]) for intent in self._intents
        }

    @property
    def intents(self) -> tuple[str, ...]:
        return self._intents

    @property
    def encoder(self) -> SentenceEncoder:
        """For fitting the next model with the vectors already loaded."""
        return self._encoder

    def read(self, text: str) -> Reading:
        vector = self._encoder.encode([text])[0]
        logits = vector @ self._weights + self._bias
        if len(self._intents) == 2:  # scikit-learn's binary case: one column, for the second
            logits = np.array([0.0, logits[0]], dtype=np.float32)
        exp = np.exp(logits - logits.max())
        probabilities = exp / exp.sum()
        return Reading(
            vector=vector,
            probabilities=dict(zip(self._intents, map(float, probabilities), strict=True)),
        )

    def nearest(self, reading: Reading, intent: str) -> float | None:
        """Cosine similarity of the message to the closest example of ``intent``."""
        examples = self._examples.get(intent)
        if examples is None or not reading.vector.any():
            return None
        return float(np.max(examples @ reading.vector))


@dataclass(frozen=True, slots=True)
class Reading:
    """One message as the embedding model sees it."""

    vector: Vectors
    probabilities: dict[str, float]


def combine(
    result: ParseResult,
    model: ExampleModel,
    *,
    rasa_weight: float,
    reading: Reading | None = None,
) -> ParseResult:
    """Rasa's ranking averaged with the embedding classifier's (``rasa_weight`` for Rasa's
    share), and the similarity of the message to the nearest example of the new top intent.
    An intent beyond Rasa's ranking counts as 0 there. ``reading``: the model's reading of
    the text when already made (else it is made here)."""
    if reading is None:
        reading = model.read(result.text)
    rasa = {score.name: score.confidence for score in result.ranking}
    names = set(rasa) | set(reading.probabilities)
    mixed = {
        name: rasa_weight * rasa.get(name, 0.0)
        + (1.0 - rasa_weight) * reading.probabilities.get(name, 0.0)
        for name in names
    }
    ordered = sorted(mixed.items(), key=lambda item: (-item[1], item[0]))[:_RANKING_LENGTH]
    ranking = tuple(IntentScore(name, _unit(confidence)) for name, confidence in ordered)
    top = ranking[0] if ranking else None
    return replace(
        result,
        intent=top,
        ranking=ranking,
        similarity=model.nearest(reading, top.name) if top else None,
    )


def _unit(value: float) -> float:
    """A mix of probabilities may stray past 1 by a rounding error."""
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0


class SemanticParser:
    """Implements :class:`~nlu.parsing.NluParser` around ``inner`` (Rasa): every parse is
    re-ranked with the embedding model and carries its nearest-example similarity.

    The embedding model reads the message in a worker thread while Rasa parses it (numpy
    lets go of the GIL in its matrix products): the decision waits for the slower of the
    two, not for both one after the other."""

    def __init__(self, *, inner: NluParser, model: ExampleModel, rasa_weight: float) -> None:
        self._inner = inner
        self._model = model
        self._rasa_weight = rasa_weight

    @property
    def model(self) -> ExampleModel:
        return self._model

    def swap(self, model: ExampleModel) -> None:
        """Parses from now on use ``model`` (one assignment: atomic for the event loop)."""
        self._model = model

    async def parse(self, text: str) -> ParseResult:
        model = self._model  # a parse in flight keeps the model it began with
        reading = asyncio.ensure_future(asyncio.to_thread(model.read, text))
        try:
            result = await self._inner.parse(text)
        except BaseException:
            reading.cancel()  # the thread finishes its reading; nobody waits for it
            raise
        return combine(result, model, rasa_weight=self._rasa_weight, reading=await reading)
