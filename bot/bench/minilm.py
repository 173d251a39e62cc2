"""``tandem bench minilm``: what all-MiniLM-L6-v2 costs one core, its layers' weights in
fp32 (as shipped) and in int8 (as the service runs it), side by side on the same texts.

Each text is encoded alone, as the service encodes a message, by each encoder in turn
(which goes first alternates), so both meet the same state of a shared machine. The cost is
the process's CPU time around one call (ONNX Runtime runs on the calling thread); each text
is new to each encoder (their caches would otherwise answer). It also reports the load
(reading the weights, building the graph, ONNX Runtime's session) and how close the int8
vectors are to the fp32 ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu.benchmark import BenchmarkDataError, load_clinc150, percentile
from nlu.minilm import MiniLmEncoder, Precision

Out = Callable[[str], None]
_PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")
_WARM_UP = 20  # texts each encoder reads before the measured ones


@dataclass(frozen=True, slots=True)
class _Run:
    """One encoder's load time, each text's CPU seconds and vectors."""

    load: float
    seconds: list[float]
    vectors: np.ndarray


def minilm_report(data: Path, texts: int, out: Out) -> None:
    """The report on the first ``texts`` distinct queries of CLINC150's val split (``data``)."""
    queries = list(dict.fromkeys(example.text for example in load_clinc150(data).val))
    warm_up, measured = queries[:_WARM_UP], queries[_WARM_UP : _WARM_UP + texts]
    if not measured:
        raise BenchmarkDataError(f"{data}: fewer than {_WARM_UP + 1} different val queries")
    runs = _runs(warm_up, measured)
    tokens = [len(text.split()) for text in measured]
    out(
        f"{data}: {len(measured)} val queries, each encoded alone by each encoder "
        f"(words per query: median {percentile(tokens, 50):.0f}, max {max(tokens)})"
    )
    out(f"{'':<8}{'load s':>8}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for precision, run in runs.items():
        milliseconds = [s * 1000 for s in run.seconds]
        out(
            f"{precision:<8}{run.load:>8.2f}{percentile(milliseconds, 50):>9.2f}"
            f"{percentile(milliseconds, 95):>9.2f}{sum(milliseconds) / len(milliseconds):>9.2f}"
        )
    cosines = np.sum(runs["int8"].vectors * runs["fp32"].vectors, axis=1)
    out(
        f"cosine of int8 to fp32: mean {float(cosines.mean()):.5f}, "
        f"1st percentile {float(np.percentile(cosines, 1)):.5f}, min {float(cosines.min()):.5f}"
    )


def _runs(warm_up: Sequence[str], measured: Sequence[str]) -> dict[Precision, _Run]:
    encoders, loads = {}, {}
    for precision in _PRECISIONS:
        start = time.process_time()
        encoders[precision] = MiniLmEncoder.from_package(precision=precision)
        loads[precision] = time.process_time() - start
        encoders[precision].encode(list(warm_up))
        for text in warm_up:
            encoders[precision].encode([text])
    seconds: dict[Precision, list[float]] = {precision: [] for precision in _PRECISIONS}
    vectors: dict[Precision, list[np.ndarray]] = {precision: [] for precision in _PRECISIONS}
    for number, text in enumerate(measured):
        order = _PRECISIONS if number % 2 == 0 else _PRECISIONS[::-1]
        for precision in order:
            start = time.process_time()
            vector = encoders[precision].encode([text])[0]
            seconds[precision].append(time.process_time() - start)
            vectors[precision].append(vector)
    return {
        precision: _Run(loads[precision], seconds[precision], np.array(vectors[precision]))
        for precision in _PRECISIONS
    }
