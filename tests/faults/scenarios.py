"""Conversations to run faults through: customers handed to agents who reply, customers
talking to the bot, in rounds, before, during and after an outage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.faults.harness import FaultWorld, Person
from tests.faults.ledger import Counts, Route

# Routine questions the shipped model answers with confidence, each a different intent (the
# same intent twice in a row would count as "that did not help").
QUESTIONS = (
    "I forgot my password",
    "how do I cancel my subscription",
    "where is my order",
    "how much does the pro plan cost",
    "the app crashes when I upload",
    "can you add dark mode",
)


_START_TIMEOUT = 30.0  # a start that waits for the outage to end must still end
_IDLE = 5.0  # before the fault: nothing moved for this long, so go on (and count it after)


@dataclass
class Crowd:
    """Customers with a person (and the agent replying to each), and customers with the bot."""

    with_agents: list[Person]
    with_bot: list[Person]
    _asked: dict[int, int] = field(default_factory=dict)

    def talk(self, world: FaultWorld, round_number: int) -> None:
        """One round: every customer with an agent writes and their agent answers; every
        customer with the bot who has had the last answer asks the next question."""
        for person in self.with_agents:
            world.customer_writes(person, f"Detail {round_number} of my problem", Route.TO_AGENTS)
            world.agent_replies(person, f"Answer {round_number} for you")
        for person in self.with_bot:
            if world.awaits_answer(person):
                continue  # a customer waits for an answer before asking the next question
            asked = self._asked.get(person.chat, person.chat % len(QUESTIONS))
            self._asked[person.chat] = asked + 1
            world.customer_writes(person, QUESTIONS[asked % len(QUESTIONS)], Route.TO_BOT)


async def open_crowd(
    world: FaultWorld, *, with_agents: int, with_bot: int, timeout: float = 30.0
) -> Crowd:
    """Hand ``with_agents`` customers off (each agent says hello), and have the others
    talk to the bot once; returns when all of that arrived."""
    crowd = Crowd(
        with_agents=[world.new_person() for _ in range(with_agents)],
        with_bot=[world.new_person() for _ in range(with_bot)],
    )
    assert await world.hand_off(crowd.with_agents, timeout=timeout), world.count().line()
    for person in crowd.with_agents:
        world.agent_replies(person, "Hello, I am looking into it")
    crowd.talk(world, 0)
    # Not asserted: what goes wrong before the fault shows in the final counts too.
    await world.wait_for(world.settled, timeout=timeout, idle=_IDLE)
    return crowd


async def with_an_agent(world: FaultWorld) -> Person:
    """A customer handed off, whose agent has said hello (and so joined the chat)."""
    person = world.new_person()
    assert await world.hand_off([person]), world.count().line()
    world.agent_replies(person, "Hello, I am looking into it")
    assert await world.wait_for(world.settled, timeout=15), world.count().line()
    return person


@dataclass(frozen=True, slots=True)
class Outage:
    """Something the service depends on goes away, and comes back."""

    name: str
    begin: Callable[[], Awaitable[None]]
    end: Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OutageRun:
    counts: Counts
    start_failures: tuple[str, ...]  # why the service did not start, when restarted during it


async def through_outage(world: FaultWorld, outage: Outage, *, restart: bool = False) -> OutageRun:
    """Conversations going on (4 with agents, 4 with the bot) when ``outage`` begins; three
    rounds during it, spread over ``times.outage``; one after. With ``restart``, the
    service is stopped in the middle of the outage and started again at once (it may have
    to wait for the outage to end)."""
    crowd = await open_crowd(world, with_agents=4, with_bot=4)
    crowd.talk(world, 1)
    await world.wait_for(world.settled, timeout=20, idle=_IDLE)
    step = world.times.outage / 3
    failures: list[str] = []
    starting: asyncio.Task[Exception | None] | None = None
    await outage.begin()
    for round_number in (2, 3, 4):
        crowd.talk(world, round_number)
        if restart and round_number == 3:
            await world.stop_service()
            starting = asyncio.create_task(world.start_service())
        await asyncio.sleep(step)  # the pace of the conversations, not a wait for a result
    await outage.end()
    if starting is not None:
        failure = await asyncio.wait_for(starting, _START_TIMEOUT)
        if failure is not None:  # as a service manager would: start it again
            failures.append(repr(failure))
            failure = await world.start_service()
            assert failure is None, f"the service did not start after the {outage.name} outage"
    crowd.talk(world, 5)
    return OutageRun(counts=await world.settle(), start_failures=tuple(failures))


def assert_nothing_lost(counts: Counts) -> None:
    assert (counts.lost, counts.duplicated, counts.out_of_order, counts.unanswered) == (
        0,
        0,
        0,
        0,
    ), counts.line()


def assert_waiting_customers_told(counts: Counts) -> None:
    assert counts.waited > 0, f"nobody waited long enough to need a notice: {counts.line()}"
    assert counts.notified == counts.waited, counts.line()
