"""Honest waiting, the pure parts: the estimate and the wait update's choices."""

from __future__ import annotations

import pytest

from handoff.responses import WAIT_DATA
from handoff.waiting import WaitChoice, estimate_seconds, parse_wait_choice


def test_no_claims_no_estimate() -> None:
    assert estimate_seconds([]) is None


@pytest.mark.parametrize(
    ("waits", "expected"),
    [([42.0], 42.0), ([10.0, 600.0, 30.0], 30.0), ([10.0, 20.0, 30.0, 4_000.0], 25.0)],
)
def test_the_estimate_is_the_median_so_one_slow_claim_does_not_inflate_it(
    waits: list[float], expected: float
) -> None:
    assert estimate_seconds(waits) == expected


@pytest.mark.parametrize("choice", list(WaitChoice))
def test_each_choice_is_read_back_from_its_button(choice: WaitChoice) -> None:
    assert parse_wait_choice(choice.value) is choice


@pytest.mark.parametrize("data", [None, "", "human", "intent:greet", "wait:never"])
def test_other_buttons_are_not_choices(data: str | None) -> None:
    assert parse_wait_choice(data) is None


def test_the_catalogue_accepts_exactly_the_choices_the_core_reads() -> None:
    assert {choice.value for choice in WaitChoice} == WAIT_DATA
