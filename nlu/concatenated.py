"""Several sentence encoders read as one: their vectors side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nlu.semantic import SentenceEncoder, Vectors


class Concatenated:
    """Implements the sentence-encoder port with ``parts``' vectors side by side, scaled by
    1/sqrt(len(parts)): unit-length parts give a unit-length whole, whose cosine is the
    mean of the parts' cosines."""

    def __init__(self, parts: Sequence[SentenceEncoder]) -> None:
        self._parts = tuple(parts)
        self._scale = np.float32(1.0 / math.sqrt(len(self._parts)))

    def encode(self, texts: Sequence[str]) -> Vectors:
        rows = np.hstack([part.encode(texts) for part in self._parts])
        rows *= self._scale
        return rows
