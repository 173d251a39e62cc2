"""What makes two Slack requests the same request, and how long Tandem remembers it."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.slack.dedupe import Once, RecentIds, request_identity
from bot.simulators.slack import defaults, events

AGENTS = defaults.AGENTS_CHANNEL_ID
ALICE = defaults.ALICE_ID


def press(action_ts: str = "1700000000.000200", user: str = ALICE) -> dict[str, object]:
    body = events.block_actions_payload(
        "tandem_claim",
        "42",
        user=user,
        channel=AGENTS,
        message_ts="1700000000.000100",
        response_url="https://unused.invalid",
    )
    body["actions"][0]["action_ts"] = action_ts
    return body


def test_identities_of_each_kind_of_request() -> None:
    event = events.event_callback_body(
        events.user_message_event(channel=AGENTS, user=ALICE, text="hi"), event_id="Ev0ONE"
    )
    command = events.slash_command_form(
        "/tandem", "claim #42", user=ALICE, channel=AGENTS, response_url="https://unused.invalid"
    )

    assert request_identity(event) == "event:Ev0ONE"
    assert request_identity(press()) == (
        f"press:{ALICE}:tandem_claim:1700000000.000200:1700000000.000100"
    )
    assert request_identity(command) == f"command:{command['trigger_id']}"
    # Another press (its own action_ts) or another agent's is another request.
    assert request_identity(press("1700000000.000300")) != request_identity(press())
    assert request_identity(press(user=defaults.BOB_ID)) != request_identity(press())


@pytest.mark.parametrize(
    "body",
    [
        {"type": "url_verification", "challenge": "c"},
        {"type": "event_callback", "event_id": ""},
        {"type": "block_actions", "actions": [{"action_id": "x"}], "user": {"id": "U1"}},
        {"type": "block_actions", "actions": "x", "user": "U1"},
        {"command": "/tandem"},
    ],
)
def test_a_request_without_a_stable_identity_has_none(body: dict[str, object]) -> None:
    assert request_identity(body) is None


def test_identities_are_forgotten_after_the_retention_only() -> None:
    now = [0.0]
    seen = RecentIds(retention=600, clock=lambda: now[0])

    seen.remember("a")
    now[0] = 599
    assert "a" in seen
    now[0] = 601
    assert "a" not in seen


def test_the_oldest_identities_go_first_when_there_are_too_many() -> None:
    seen = RecentIds(capacity=2, clock=lambda: 0.0)

    for identity in ("a", "b", "c"):
        seen.remember(identity)

    assert [identity in seen for identity in ("a", "b", "c")] == [False, True, True]


async def fail_inside(once: Once, identity: str) -> None:
    async with once.first(identity) as turn:
        assert turn is not None
        raise RuntimeError("the handler failed")


async def test_only_a_turn_marked_taken_is_remembered() -> None:
    once = Once()

    async with once.first("x") as turn:
        assert turn is not None  # not marked: as if the handler had failed
    with pytest.raises(RuntimeError):
        await fail_inside(once, "x")
    async with once.first("x") as turn:
        assert turn is not None
        turn.taken()
    async with once.first("x") as turn:
        assert turn is None
    async with once.first(None) as turn, once.first(None) as other:
        assert turn is not None  # nothing to tell them apart by
        assert other is not None


async def test_a_second_delivery_waits_for_the_first_and_finds_it_taken() -> None:
    once = Once()
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with once.first("x") as turn:
            assert turn is not None
            inside.set()
            await release.wait()
            order.append("first taken")
            turn.taken()

    async def second() -> None:
        async with once.first("x") as turn:
            order.append("second: taken already" if turn is None else "second: handled")

    running = asyncio.create_task(first())
    await inside.wait()
    waiting = asyncio.create_task(second())
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(running, waiting)

    assert order == ["first taken", "second: taken already"]
