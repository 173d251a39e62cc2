"""Sentence embeddings from the static token vectors the ``wordllama`` package ships.

WordLlama (MIT) distils a large language model's token embeddings into a 32,000 x 256
table; a sentence is the mean of its tokens' vectors, scaled to unit length. The table and
the tokenizer are files inside the installed wheel: nothing is downloaded, and embedding
a message costs microseconds (no neural network runs).

The files are read directly rather than through ``wordllama.WordLlama.load``: that looks
for the tokenizer in a folder the wheel does not have, then falls back to a download, and
importing the package configures the root logger (``logging.basicConfig`` in its
``inference`` module). This is the only module that knows where the files are.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from nlu.errors import NluError
from nlu.packages import installed_folder

_PACKAGE = "wordllama"
_WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_TENSOR = "embedding.weight"
# What a vector depends on (vectors kept on disk are keyed by it).
REVISION = "wordllama 0.4.0.post1 l2_supercat_256, mean, v1"

Vectors = NDArray[np.float32]


class EmbeddingUnavailable(NluError):
    """The sentence-embedding files are missing or unreadable (``wordllama`` not installed)."""


class StaticEmbeddings:
    """Implements the sentence-encoder port (``encode``) with a token table and tokenizer."""

    def __init__(self, *, table: Vectors, tokenizer: Tokenizer) -> None:
        self._table = table
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    @classmethod
    def from_wordllama(cls) -> StaticEmbeddings:
        """The 256-dimension WordLlama table (``l2_supercat``) of the installed package."""
        root = installed_folder(_PACKAGE, missing=EmbeddingUnavailable, install="pip install -e .")
        try:
            table = load_file(str(root / _WEIGHTS))[_TENSOR].astype(np.float32)
            tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
        # tokenizers reports a bad file as a plain Exception: translated here, once.
        except Exception as exc:
            raise EmbeddingUnavailable(f"cannot read {_PACKAGE}'s files in {root}: {exc}") from None
        return cls(table=table, tokenizer=tokenizer)

    @property
    def dimensions(self) -> int:
        return int(self._table.shape[1])

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (a text with no tokens gives a row of zeros)."""
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            if encoding.ids:
                rows[row] = self._table[encoding.ids].mean(axis=0)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows /= np.where(norms > 0, norms, np.float32(1.0))
        return rows
