"""The rows of ``tandem bench load``: what one closed loop measured, and the table."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from nlu.benchmark import percentile


class Backend(Enum):
    """What answered the customers: bare Rasa, or the whole service on one storage."""

    RASA = "rasa"
    SQLITE = "sqlite"
    POSTGRES = "postgres"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Backend.RASA: "bare Rasa",
    Backend.SQLITE: "SQLite",
    Backend.POSTGRES: "PostgreSQL+Redis",
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One message of a closed loop: how long its answer took, or why there was none."""

    seconds: float | None
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """What a measured window cost, beside its samples: wall time and CPU seconds."""

    seconds: float
    tandem_cpu: float | None  # None: no service in the loop (bare Rasa)
    rasa_cpu: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    backend: Backend
    concurrency: int
    messages: int
    answered: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tandem_cpu_ms: float | None  # per message
    rasa_cpu_ms: float
    errors: dict[str, int] = field(default_factory=dict)  # what went wrong, how often

    @classmethod
    def of(
        cls, backend: Backend, concurrency: int, samples: Sequence[Sample], window: Window
    ) -> Row:
        latencies = [s.seconds for s in samples if s.answered and s.seconds is not None]
        count = len(samples)

        def per_message(seconds: float) -> float:
            return seconds * 1000 / count if count else 0.0

        return cls(
            backend=backend,
            concurrency=concurrency,
            messages=count,
            answered=len(latencies),
            seconds=window.seconds,
            p50_ms=percentile(latencies, 50) * 1000,
            p99_ms=percentile(latencies, 99) * 1000,
            tandem_cpu_ms=None if window.tandem_cpu is None else per_message(window.tandem_cpu),
            rasa_cpu_ms=per_message(window.rasa_cpu),
            errors=dict(Counter(s.error for s in samples if s.error is not None)),
        )

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def tandem_over_rasa(self) -> float | None:
        """Tandem's CPU over that of its own Rasa in the same row: the same parses, so the
        ratio moves less with a shared machine's speed than either figure alone."""
        if self.tandem_cpu_ms is None or self.rasa_cpu_ms <= 0:
            return None
        return self.tandem_cpu_ms / self.rasa_cpu_ms

    @property
    def per_second(self) -> float:
        """Answered messages a second."""
        return self.answered / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    rows: tuple[Row, ...]

    def ordered(self) -> list[Row]:
        """By concurrency, then bare Rasa first: each group compares like with like."""
        order = list(Backend)
        return sorted(self.rows, key=lambda r: (r.concurrency, order.index(r.backend)))

    def versus_rasa(self, row: Row) -> float | None:
        """The row's throughput as a share of bare Rasa's at the same concurrency."""
        bare = next(
            (
                r
                for r in self.rows
                if r.backend is Backend.RASA and r.concurrency == row.concurrency
            ),
            None,
        )
        if bare is None or bare.per_second == 0:
            return None
        return row.per_second / bare.per_second

    @property
    def errors(self) -> int:
        return sum(row.error_count for row in self.rows)


_LEFT = (("chats", 7), ("backend", 18))
_RIGHT = (
    "msg/s",
    "p50 ms",
    "p99 ms",
    "Tandem CPU ms/msg",
    "Rasa CPU ms/msg",
    "Tandem/Rasa CPU",
    "errors",
    "vs bare Rasa",
)
_GAP = 2


def table(report: Report) -> list[str]:
    """The report as aligned lines, then one line per kind of error."""
    header = "".join(f"{name:<{width}}" for name, width in _LEFT)
    header += "".join(f"{name:>{len(name) + _GAP}}" for name in _RIGHT)
    lines = [header]
    lines += [_line(row, report.versus_rasa(row)) for row in report.ordered()]
    for row in report.ordered():
        for error, times in sorted(row.errors.items()):
            lines.append(f"  {row.backend.label}, {row.concurrency} chats: {times} x {error}")
    return lines


def _line(row: Row, versus: float | None) -> str:
    cells = (
        _number(row.per_second, 1),
        _number(row.p50_ms, 1),
        _number(row.p99_ms, 1),
        _number(row.tandem_cpu_ms, 2),
        _number(row.rasa_cpu_ms, 2),
        _number(row.tandem_over_rasa, 2),
        str(row.error_count),
        "-" if versus is None or row.backend is Backend.RASA else f"{versus:.2f}x",
    )
    (_, chats), (_, backend) = _LEFT
    line = f"{row.concurrency:<{chats}}{row.backend.label:<{backend}}"
    return line + "".join(
        f"{cell:>{len(name) + _GAP}}" for cell, name in zip(cells, _RIGHT, strict=True)
    )


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report_json(report: Report, *, settings: dict[str, Any]) -> str:
    """Machine-readable: the run's settings and every row, with its ratio to bare Rasa."""
    return json.dumps(report_dict(report, settings=settings), indent=2)


def report_dict(report: Report, *, settings: dict[str, Any]) -> dict[str, Any]:
    return {"settings": settings, "rows": [_row_json(report, row) for row in report.ordered()]}


def _row_json(report: Report, row: Row) -> dict[str, Any]:
    return {
        "backend": row.backend.value,
        "concurrency": row.concurrency,
        "messages": row.messages,
        "answered": row.answered,
        "seconds": round(row.seconds, 3),
        "messages_per_second": round(row.per_second, 2),
        "p50_ms": round(row.p50_ms, 2),
        "p99_ms": round(row.p99_ms, 2),
        "tandem_cpu_ms_per_message": _rounded(row.tandem_cpu_ms),
        "rasa_cpu_ms_per_message": round(row.rasa_cpu_ms, 3),
        "tandem_over_rasa_cpu": _rounded(row.tandem_over_rasa),
        "errors": row.error_count,
        "error_kinds": row.errors,
        "vs_bare_rasa": _rounded(report.versus_rasa(row)),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
