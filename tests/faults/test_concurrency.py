"""Many customers in the same moment, on the embedded default (an SQLite file, in-process
live state): every one handed off or answered, none left without a reply."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultTimes, FaultWorld, answered, scenario_limit
from tests.faults.ledger import Route
from tests.faults.scenarios import QUESTIONS

pytestmark = [pytest.mark.rasa, pytest.mark.faults, scenario_limit(90)]

CROWD = 50
TIMEOUT = 45.0  # for all of them together
IDLE = 8.0  # nothing happened for this long: what has not come will not come


@pytest.fixture
def fault_times() -> FaultTimes:
    # The subject is the embedded store under a crowd. Slack's own pace (one post a second
    # per channel) would make 50 cards take 50 s by design; its suite is slack.pacing's.
    return FaultTimes(slack_paced=False)


async def test_fifty_customers_ask_for_a_person_at_once(embedded: FaultWorld) -> None:
    crowd = [embedded.new_person() for _ in range(CROWD)]
    await embedded.hand_off(crowd, timeout=TIMEOUT, idle=IDLE)
    await answered(embedded, timeout=TIMEOUT, idle=IDLE)
    carded = [p for p in crowd if embedded.cards_of(p)]
    told = [p for p in crowd if embedded.told_handed_off(p)]
    counts = embedded.count()
    print(
        f"\n{CROWD} x /human: {len(embedded.cards())} cards for {len(carded)} customers, "
        f"{len(told)} told; {counts.line()}"
    )
    assert (len(embedded.cards()), len(carded), len(told)) == (CROWD, CROWD, CROWD), counts.line()


async def test_fifty_customers_ask_the_bot_at_once(embedded: FaultWorld) -> None:
    crowd = [embedded.new_person() for _ in range(CROWD)]
    for number, person in enumerate(crowd):
        embedded.customer_writes(person, QUESTIONS[number % len(QUESTIONS)], Route.TO_BOT)
    await answered(embedded, timeout=TIMEOUT, idle=IDLE)
    counts = embedded.count()
    print(f"\n{CROWD} questions at once: {counts.line()}")
    assert (counts.to_bot, counts.unanswered) == (CROWD, 0), counts.line()
