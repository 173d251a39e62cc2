"""The intent an agent picks in a teaching offer, read from Slack's payload: in the agent
channel or a route's, never in another channel."""

from __future__ import annotations

from bot.adapters.slack.teaching import TEACH_ACTION, picked
from bot.simulators.slack.events import block_actions_payload

ROUTES = frozenset({"C0AGENTS", "C0BILLING"})


def pick(channel: str, value: str = "42:billing_question") -> dict[str, object]:
    return block_actions_payload(
        TEACH_ACTION,
        value,
        user="U0AGENT1",
        channel=channel,
        message_ts="1.2",
        thread_ts="1.1",
        response_url="http://127.0.0.1/response",
        kind="static_select",
    )


def test_a_pick_in_a_routes_channel_names_that_channel() -> None:
    assert picked(pick("C0BILLING"), channels=ROUTES) == (
        "U0AGENT1",
        "C0BILLING",
        "1.1",
        42,
        "billing_question",
    )


def test_a_pick_elsewhere_or_malformed_is_refused() -> None:
    assert picked(pick("C0OTHER"), channels=ROUTES) is None
    assert picked(pick("C0AGENTS", "x:billing_question"), channels=ROUTES) is None
    assert picked(pick("C0AGENTS", "42:"), channels=ROUTES) is None
