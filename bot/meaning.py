"""The sentence encoder the frustration model's meaning head reads messages with.

all-MiniLM-L6-v2, the process's one (:func:`nlu.minilm.shared_encoder`): its weights load
once, and its cache of the last few hundred texts serves every reader of the same message.
When the NLU reads messages with MiniLM (``nlu.encoder: minilm`` or ``minilm+wordllama``)
it encodes the message in a thread while Rasa parses it, so the detector's reading costs
nothing; with ``wordllama`` alone the detector encodes it (about 4 ms of one core).
"""

from __future__ import annotations

import functools
import logging

from handoff.policy.meaning import SentenceEncoder
from nlu.minilm import EncoderUnavailable, MiniLmEncoder, shared_encoder

logger = logging.getLogger(__name__)

# The encoder the shipped meaning head was trained with (the weights file names it): the
# model's own fp32 vectors. The service reads int8 approximations of them (cosine 0.99),
# whose last digits depend on the CPU's integer instructions: a head trained on int8
# vectors came out differently on another machine, so `tandem policy train --check` failed.
ENCODER_NAME = "all-MiniLM-L6-v2"


@functools.cache
def frustration_encoder() -> SentenceEncoder | None:
    """The encoder; None, with a warning, when its package is not installed."""
    try:
        return shared_encoder()
    except EncoderUnavailable as exc:
        logger.warning("frustration: %s", exc)
        return None


def required_encoder() -> SentenceEncoder:
    """The service's encoder, or :class:`EncoderUnavailable` (a benchmark needs it)."""
    return shared_encoder()


def training_encoder(*, threads: int) -> SentenceEncoder:
    """The encoder the meaning head is trained with (:data:`ENCODER_NAME`), on ``threads``
    cores, or :class:`EncoderUnavailable`."""
    return MiniLmEncoder.from_package(threads=threads, precision="fp32")
