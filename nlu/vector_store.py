"""The training examples' sentence vectors kept in the models folder, so that fitting the
embedding model at start or at a hot reload encodes only the examples it has not seen.

MiniLM needs about 5 ms of CPU an example: the shipped 720 examples are several seconds
at every start without this, a few milliseconds to read back with it. The file
(``example-vectors.<encoder>.npz``) holds the texts of the last fit and their vectors,
with the encoder's identity: vectors of another encoder (or version) are never mixed in.
Unreadable or unwritable, it is only a cost: a warning, and the vectors are computed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlu.semantic import SentenceEncoder, Vectors

logger = logging.getLogger(__name__)

# Up to this many texts at once are messages (never looked up, never kept): a fit is more.
_MESSAGES = 1
_PREFIX, _SUFFIX = "example-vectors.", ".npz"


def vectors_file(store_dir: Path, encoder: str) -> Path:
    """Where the models folder ``store_dir`` keeps the vectors of the encoder ``encoder``."""
    return store_dir / f"{_PREFIX}{encoder}{_SUFFIX}"


def copy_vectors(source: Path, target: Path) -> None:
    """Put the vectors kept in the models folder ``source`` into ``target``, a folder that
    serves a copy of its model (a benchmark's): a start there encodes only what they lack."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob(f"{_PREFIX}*{_SUFFIX}"):
        shutil.copy2(path, target / path.name)


class StoredVectors:
    """Implements the sentence-encoder port around ``encoder``: a batch's vectors for texts
    the file at ``path`` holds are read from it, the others encoded, and the file rewritten
    with the batch's texts (so it keeps one data set: the last one fitted)."""

    def __init__(self, *, encoder: SentenceEncoder, identity: str, path: Path) -> None:
        self._encoder = encoder
        self._identity = identity
        self._path = path

    @property
    def path(self) -> Path:
        return self._path

    def encode(self, texts: Sequence[str]) -> Vectors:
        if len(texts) <= _MESSAGES:
            return self._encoder.encode(texts)
        known = self._read()
        unique = list(dict.fromkeys(texts))
        missing = [text for text in unique if text not in known]
        if missing:
            known.update(zip(missing, self._encoder.encode(missing), strict=True))
            self._write(unique, known)
        return np.stack([known[text] for text in texts]).astype(np.float32, copy=False)

    def _read(self) -> dict[str, Vectors]:
        try:
            with np.load(self._path, allow_pickle=False) as stored:
                identity = str(stored["identity"])
                texts = [str(text) for text in stored["texts"]]
                vectors = np.asarray(stored["vectors"], dtype=np.float32)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            logger.warning(
                "cannot read the stored example vectors %s (recomputed): %s", self._path, exc
            )
            return {}
        if identity != self._identity or len(texts) != len(vectors):
            return {}
        return dict(zip(texts, vectors, strict=True))

    def _write(self, texts: list[str], vectors: dict[str, Vectors]) -> None:
        temporary = self._path.with_name(f"{self._path.name}.{os.getpid()}.tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                np.savez(
                    handle,
                    identity=np.array(self._identity),
                    texts=np.array(texts, dtype=str),
                    vectors=np.stack([vectors[text] for text in texts]),
                )
            os.replace(temporary, self._path)  # readers see the old file or the new
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            logger.warning("cannot keep the example vectors in %s: %s", self._path, exc)
