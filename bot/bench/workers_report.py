"""What ``tandem bench load --workers`` counts: per number of workers, the messages that had
to reach the other side (customers' into their Slack threads, agents' replies into
Telegram) and what arrived, once, twice, or behind a later one of its chat."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Tally:
    """Messages of one direction: ``sent`` had to arrive; each is counted once in
    ``delivered`` or in ``lost`` (a missing one is lost, whatever the reason)."""

    sent: int
    delivered: int
    lost: int
    duplicated: int  # arrivals beyond the first of a message
    out_of_order: int  # arrivals right after a later message of the same chat

    @classmethod
    def of(
        cls, expected: Mapping[int, Sequence[int]], arrived: Mapping[int, Sequence[int]]
    ) -> Tally:
        """``expected``: per chat, the numbers of the messages sent; ``arrived``: per chat,
        the numbers seen on the other side, in the order shown there."""
        sent = sum(len(numbers) for numbers in expected.values())
        delivered = duplicated = out_of_order = 0
        for chat, numbers in expected.items():
            seen = Counter(arrived.get(chat, ()))
            delivered += sum(1 for number in set(numbers) if seen[number])
            duplicated += sum(count - 1 for count in seen.values())
            out_of_order += sum(1 for a, b in itertools.pairwise(arrived.get(chat, ())) if b < a)
        return cls(
            sent=sent,
            delivered=delivered,
            lost=sent - delivered,
            duplicated=duplicated,
            out_of_order=out_of_order,
        )

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            *(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True))
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkersRow:
    """One run of the workload on ``workers`` processes."""

    workers: int
    conversations: int
    handoffs: int  # conversations whose card reached Slack
    customers: Tally  # customers' messages, into their threads
    agents: Tally  # agents' replies, to the customers
    seconds: float  # from the first message sent to the last one in (or the time-out)
    cpu_seconds: float  # of all the worker processes together, over those seconds

    @property
    def total(self) -> Tally:
        return self.customers + self.agents

    @property
    def per_second(self) -> float:
        """Delivered messages a second."""
        return self.total.delivered / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_seconds * 1000 / self.total.sent if self.total.sent else 0.0


_COLUMNS = (
    ("workers", 9),
    ("handoffs", 10),
    ("msgs", 7),
    ("deliv", 7),
    ("lost", 6),
    ("dup", 5),
    ("order", 7),
    ("drain s", 9),
    ("msg/s", 8),
    ("CPU ms/msg", 12),
)


def table(rows: Sequence[WorkersRow]) -> list[str]:
    """Side by side, one line per number of workers (CPU: all workers, per message sent)."""
    lines = ["".join(f"{name:>{width}}" for name, width in _COLUMNS)]
    for row in rows:
        total = row.total
        cells = (
            str(row.workers),
            f"{row.handoffs}/{row.conversations}",
            str(total.sent),
            str(total.delivered),
            str(total.lost),
            str(total.duplicated),
            str(total.out_of_order),
            f"{row.seconds:.1f}",
            f"{row.per_second:.1f}",
            f"{row.cpu_ms_per_message:.2f}",
        )
        lines.append(
            "".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
        )
    return lines


def as_dicts(rows: Sequence[WorkersRow]) -> list[dict[str, Any]]:
    return [
        {
            **asdict(row),
            "total": asdict(row.total),
            "messages_per_second": round(row.per_second, 2),
            "cpu_ms_per_message": round(row.cpu_ms_per_message, 3),
        }
        for row in rows
    ]
