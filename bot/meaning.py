"""The sentence encoder the frustration model's meaning head reads messages with.

all-MiniLM-L6-v2 (:mod:`nlu.minilm`), one per process: its weights load once, and its
cache of the last few hundred texts serves every reader of the same message. When the NLU
reads messages with MiniLM too, the detector takes the NLU's encoder: the NLU has just
encoded the message, so the second reading costs nothing (a separate encoder: ~15 ms).
"""

from __future__ import annotations

import functools
import logging

from handoff.policy.meaning import SentenceEncoder
from nlu.minilm import EncoderUnavailable, MiniLmEncoder
from nlu.parsing import NluParser
from nlu.semantic import SemanticParser

logger = logging.getLogger(__name__)

# The encoder the shipped meaning head was trained with (the weights file names it).
ENCODER_NAME = "all-MiniLM-L6-v2"


@functools.cache
def frustration_encoder() -> SentenceEncoder | None:
    """The encoder; None, with a warning, when its package is not installed."""
    try:
        return MiniLmEncoder.from_package()
    except EncoderUnavailable as exc:
        logger.warning("frustration: %s", exc)
        return None


def reader_for(nlu: NluParser | None, nlu_encoder: str) -> SentenceEncoder | None:
    """The NLU's encoder when it is MiniLM alone (``nlu.encoder: minilm``), else the
    detector's own (:func:`frustration_encoder`)."""
    if isinstance(nlu, SemanticParser) and nlu_encoder == "minilm":
        return nlu.model.encoder
    return frustration_encoder()


def required_encoder(*, threads: int = 1) -> SentenceEncoder:
    """The encoder on ``threads`` cores, or :class:`EncoderUnavailable` (training needs it)."""
    return MiniLmEncoder.from_package(threads=threads)
