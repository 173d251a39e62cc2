"""``tandem bench load --workers N``: how it counts, the options it refuses, and (marked
rasa) a small run of one and two ``tandem run`` workers behind the balancer."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.bench.storage import run_name
from bot.bench.workers import WorkersOptions, run_workers
from bot.bench.workers_report import Tally, WorkersRow, as_dicts, table
from bot.cli import cli
from tests.support.bench import assert_nothing_left, bench_settings

# --- counting -----------------------------------------------------------------------------


def test_every_message_is_delivered_or_lost_once() -> None:
    tally = Tally.of({1: [1, 2, 3], 2: [1, 2]}, {1: [1, 3], 2: []})
    assert tally == Tally(sent=5, delivered=2, lost=3, duplicated=0, out_of_order=0)


def test_a_message_shown_twice_is_delivered_once_and_duplicated_once() -> None:
    tally = Tally.of({1: [1, 2]}, {1: [1, 2, 2]})
    assert (tally.delivered, tally.lost, tally.duplicated) == (2, 0, 1)


def test_a_message_right_after_a_later_one_of_its_chat_is_out_of_order() -> None:
    tally = Tally.of({1: [1, 2, 3, 4], 2: [1, 2]}, {1: [2, 1, 4, 3], 2: [1, 2]})
    assert (tally.delivered, tally.out_of_order) == (6, 2)


def test_what_arrived_but_was_never_sent_is_not_delivered() -> None:
    tally = Tally.of({1: [1]}, {1: [1], 9: [1]})
    assert (tally.sent, tally.delivered, tally.lost) == (1, 1, 0)


def _row(workers: int, *, lost: int = 0) -> WorkersRow:
    return WorkersRow(
        workers=workers,
        conversations=30,
        handoffs=30,
        customers=Tally(sent=300, delivered=300 - lost, lost=lost, duplicated=0, out_of_order=4),
        agents=Tally(sent=60, delivered=60, lost=0, duplicated=1, out_of_order=0),
        seconds=12.0,
        cpu_seconds=3.6,
    )


def test_a_row_adds_both_directions_and_counts_cpu_per_message_sent() -> None:
    row = _row(3, lost=12)
    assert row.total == Tally(sent=360, delivered=348, lost=12, duplicated=1, out_of_order=4)
    assert row.per_second == 29.0  # delivered ones
    assert row.cpu_ms_per_message == pytest.approx(10.0)  # 3.6 s over 360 sent


def test_the_table_puts_the_numbers_of_workers_side_by_side() -> None:
    lines = table([_row(1), _row(3, lost=12)])
    assert lines[0].split() == [
        "workers",
        "handoffs",
        "msgs",
        "deliv",
        "lost",
        "dup",
        "order",
        "drain",
        "s",
        "msg/s",
        "CPU",
        "ms/msg",
    ]
    assert lines[2].split() == ["3", "30/30", "360", "348", "12", "1", "4", "12.0", "29.0", "10.00"]
    assert len({len(line) for line in lines}) == 1  # aligned
    [first, _] = as_dicts([_row(1), _row(3)])
    assert first["total"]["delivered"] == 360
    assert first["cpu_ms_per_message"] == 10.0


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--workers", "1,3", "--stored", "5"], "--stored does not apply with --workers"),
        (["--workers", "2", "--backends", "postgres"], "--backends does not apply with --workers"),
        (["--replies", "3"], "--replies applies only with --workers"),
        (["--kill-one-after", "2"], "--kill-one-after applies only with --workers"),
        (["--workers", "0"], "expected workers of at least 1, e.g. 1,3"),
        (["--workers", "one"], "expected whole numbers separated by commas, e.g. 1,3"),
    ],
)
def test_options_of_the_other_kind_of_run_are_refused(arguments: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, ["bench", "load", *arguments])
    assert result.exit_code == 2
    assert expected in result.output


# --- a small run of the whole thing -----------------------------------------------------------


@pytest.mark.rasa
@pytest.mark.timeout(600)
async def test_a_small_run_of_one_and_two_workers_counts_every_message(
    shipped_model: Path, tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    settings = bench_settings(shipped_model, tmp_path)
    options = WorkersOptions(
        workers=(1, 2),
        messages=14,  # 4 and 3 a conversation
        conversations=4,
        replies=1,
        postgres=postgres_url,
        redis=redis_url,
        name=run_name(),
    )
    progress: list[str] = []
    rows = await run_workers(settings, options, progress=progress.append)

    assert [row.workers for row in rows] == [1, 2]
    for row in rows:
        assert row.handoffs == 4
        assert (row.customers.sent, row.agents.sent) == (14, 4)
        # One worker or two, nobody stopped: every message arrives, once.
        assert (row.total.delivered, row.total.lost, row.total.duplicated) == (18, 0, 0)
        assert row.seconds > 0
        assert row.cpu_seconds > 0
        assert row.per_second == pytest.approx(18 / row.seconds)
    assert len(table(rows)) == 3
    assert any("2 workers up" in line for line in progress)
    # Nothing is left behind: the run's folder, its databases, its Redis keys.
    await assert_nothing_left(
        settings, options.name, postgres_url=postgres_url, redis_url=redis_url
    )
