"""The sentence encoders the NLU can read messages with, by name (``nlu.encoder``).

- ``minilm``: all-MiniLM-L6-v2 (:mod:`nlu.minilm`), a 6-layer transformer run by ONNX Runtime
  (its layers in int8): a few milliseconds a message.
- ``wordllama``: WordLlama's static token vectors (:mod:`nlu.sentences`): microseconds a
  message, and less accurate.
- ``minilm+wordllama``: both vectors side by side (:mod:`nlu.concatenated`): a cosine
  is the mean of the two cosines.

Light to import (the command line's help lists the names): the encoders' modules are
imported when one is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from nlu.semantic import SentenceEncoder

EncoderName = Literal["minilm", "wordllama", "minilm+wordllama"]
ENCODER_NAMES: tuple[str, ...] = get_args(EncoderName)
DEFAULT_ENCODER: EncoderName = "minilm"


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the embedding classifier is fitted and weighed for one encoder."""

    rasa_weight: float  # Rasa's share of the combined ranking; the classifier has the rest
    regularisation: float  # the classifier's C (scikit-learn)


# Set on CLINC150 val (tandem bench oos --encoder NAME) with the policy's scope thresholds
# (0.88 / 0.7). minilm: in-scope accuracy 0.961 at Rasa weight 0.4 (0.3: 0.964, but
# two-turn OOS 92.4%), two-turn OOS 94.2% / in scope 1.2%, on a plateau of min_scope_score
# from 0.86 to 0.96 (C 10 and 30: OOS 81-89%). wordllama: 0.938, 92.4% / 1.4%; at
# minilm's values it hands off 1.8% of in-scope customers. Both side by side: no better
# than minilm alone.
TUNINGS: dict[EncoderName, Tuning] = {
    "minilm": Tuning(rasa_weight=0.4, regularisation=3.0),
    "wordllama": Tuning(rasa_weight=0.5, regularisation=10.0),
    "minilm+wordllama": Tuning(rasa_weight=0.4, regularisation=3.0),
}


def sentence_encoder(name: EncoderName, *, store_dir: Path | None = None) -> SentenceEncoder:
    """The encoder called ``name``, its files read from the installed packages; with
    ``store_dir``, the vectors of the examples it fits on are kept there
    (:mod:`nlu.vector_store`)."""
    # Here: reading weights takes tokenizers, safetensors, onnx and ONNX Runtime.
    from nlu import minilm, sentences  # noqa: PLC0415
    from nlu.concatenated import Concatenated  # noqa: PLC0415
    from nlu.vector_store import StoredVectors, vectors_file  # noqa: PLC0415

    encoder: SentenceEncoder
    if name == "minilm":
        encoder = minilm.shared_encoder()
        revision = minilm.REVISION
    elif name == "wordllama":
        encoder = sentences.StaticEmbeddings.from_wordllama()
        revision = sentences.REVISION
    else:
        parts: list[SentenceEncoder] = [
            minilm.shared_encoder(),
            sentences.StaticEmbeddings.from_wordllama(),
        ]
        encoder = Concatenated(parts)
        revision = f"{minilm.REVISION} + {sentences.REVISION}"
    if store_dir is None:
        return encoder
    return StoredVectors(encoder=encoder, identity=revision, path=vectors_file(store_dir, name))
