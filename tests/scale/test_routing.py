# ruff: noqa: F811 - the settings tests' fixture is imported, then requested by name
"""Routing handoffs to team channels: the pure choice (by intent, reason, language; first
match wins; none: the default channel), the settings' checks with one clear line per
mistake, the card's route line, an agent's reply relayed from a route's channel, and
`tandem config check`'s look at the channels against the Slack simulator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.slack.cards import render_card
from bot.adapters.slack.reach import unreachable_channels
from bot.adapters.slack.translate import (
    BotIdentity,
    ReplyDraft,
    button_press,
    classify_message,
    parse_command,
)
from bot.settings import load_settings
from bot.simulators.slack import SlackSimulator
from handoff.model import (
    Author,
    CardState,
    CardStatus,
    Customer,
    HandoffTicket,
    TranscriptLine,
)
from handoff.routing import Route, Routes
from tests.adapters.test_slack_cards import START, make_ticket
from tests.bot.test_settings import clean_environment, errors_of, write_config  # noqa: F401

BILLING = Route(
    name="billing",
    channel="C0BILLING",
    intents=frozenset({"billing_question", "refund_request"}),
    ping=("S0BILLTEAM", "U0LEAD"),
)
GERMAN = Route(name="german", channel="C0GERMAN", languages=frozenset({"de"}))
ANGRY = Route(name="care", channel="C0CARE", reasons=frozenset({"frustrated"}))
ROUTES = Routes((BILLING, GERMAN, ANGRY))


def ticket_with(
    intent: str | None = None, language: str | None = None, reason: str = "x"
) -> HandoffTicket:
    said = TranscriptLine(author=Author.CUSTOMER, text="hm", at=START, intent=intent)
    customer = Customer(user_id="1", display_name="Maria", language_code=language)
    ticket = make_ticket(reason=reason, transcript=(said,), failed_turns=())
    return replace(ticket, customer=customer)


def test_the_first_matching_route_wins_and_says_why() -> None:
    choice = ROUTES.choose(ticket_with("refund_request", "de", reason="frustrated"))
    assert choice is not None
    assert (choice.name, choice.channel, choice.why) == (
        "billing",
        "C0BILLING",
        "intent refund_request",
    )
    assert choice.ping == ("S0BILLTEAM", "U0LEAD")
    german = ROUTES.choose(ticket_with("greet", "de-AT", reason="frustrated"))
    assert german is not None
    assert (german.name, german.why) == ("german", "language de-at")
    angry = ROUTES.choose(ticket_with(None, "en", reason="frustrated"))
    assert angry is not None
    assert (angry.name, angry.why) == ("care", "reason frustrated")
    assert ROUTES.choose(ticket_with("greet", "en", reason="person_requested")) is None


def test_a_failed_turns_intent_routes_too() -> None:
    ticket = make_ticket(reason="failed_turns")  # its failed turns: greet, order_status
    orders = Routes(
        (Route(name="orders", channel="C0ORDERS", intents=frozenset({"order_status"})),)
    )
    choice = orders.choose(ticket)
    assert choice is not None
    assert choice.why == "intent order_status"
    assert orders.routed(ticket).route == choice


def test_routes_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="name intents, reasons or languages"):
        Route(name="empty", channel="C0X")
    with pytest.raises(ValueError, match="unknown reason"):
        Route(name="r", channel="C0X", reasons=frozenset({"angry"}))
    with pytest.raises(ValueError, match="each name once"):
        Routes((GERMAN, GERMAN))


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "agents:\n  routes:\n    - name: b\n      channel: billing\n      intents: [x]\n",
            "agents.routes.0.channel",
        ),
        (
            "agents:\n  routes:\n    - name: b\n      channel: C0BILL\n",
            "name intents, reasons or languages",
        ),
        (
            "agents:\n  routes:\n    - name: b\n      channel: C0BILL\n      reasons: [angry]\n",
            "unknown reason(s) angry",
        ),
        (
            "agents:\n  routes:\n    - name: b\n      channel: C0BILL\n      intents: [x]\n"
            "      ping: [alice]\n",
            "agents.routes.0.ping.0",
        ),
    ],
)
def test_a_bad_route_is_one_line_naming_it(
    clean_environment: Path,
    yaml_text: str,
    expected: str,
) -> None:
    write_config(clean_environment, yaml_text)
    [line] = errors_of()
    assert expected in line


def test_routes_load_in_order(clean_environment: Path) -> None:
    write_config(
        clean_environment,
        "agents:\n  routes:\n    - name: billing\n      channel: C0BILL\n"
        "      intents: [billing_question]\n      ping: [S0TEAM]\n"
        "    - name: german\n      channel: C0DE\n      languages: [DE]\n",
    )
    routes = load_settings().config.agents.routing()
    assert [r.name for r in routes.routes] == ["billing", "german"]
    assert routes.routes[1].languages == frozenset({"de"})
    assert routes.channels == frozenset({"C0BILL", "C0DE"})


def test_the_card_says_which_route_and_why_and_pings_its_people() -> None:
    ticket = ROUTES.routed(ticket_with("billing_question"))
    card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))
    [line] = [
        element["text"].replace("\u200b", "")  # mrkdwn's escaped underscores
        for block in card.blocks
        if block["type"] == "context"
        for element in block["elements"]
        if "Route" in element["text"]
    ]
    shown = line
    assert "*Route:* billing (intent billing_question)" in shown
    assert "<!subteam^S0BILLTEAM>" in shown
    assert "<@U0LEAD>" in shown


ME = BotIdentity(user_id="U0TANDEM", bot_id="B0TANDEM", team_id="T0", team_url="")


def test_an_agents_reply_in_a_routes_channel_is_relayed_with_that_channel() -> None:
    event = {
        "channel": "C0BILLING",
        "user": "U0AGENT1",
        "text": "hi",
        "ts": "2.0",
        "thread_ts": "1.0",
    }
    draft = classify_message(
        event, channel="C0AGENTS", me=ME, note_prefix="note:", others=frozenset({"C0BILLING"})
    )
    assert isinstance(draft, ReplyDraft)
    assert draft.thread.channel == "C0BILLING"
    elsewhere = classify_message(event, channel="C0AGENTS", me=ME, note_prefix="note:")
    assert not isinstance(elsewhere, ReplyDraft)
    form = {"channel_id": "C0BILLING", "user_id": "U0AGENT1", "text": "claim #42"}
    assert not hasattr(
        parse_command(form, channel="C0AGENTS", others=frozenset({"C0BILLING"})), "text"
    )
    press = {
        "actions": [{"action_id": "tandem_claim", "value": "42"}],
        "container": {"channel_id": "C0BILLING", "message_ts": "1.0"},
        "user": {"id": "U0AGENT1"},
    }
    found = button_press(press, channel="C0AGENTS", others=frozenset({"C0BILLING"}))
    assert found is not None
    assert found.thread.channel == "C0BILLING"


async def test_config_check_names_the_channels_the_app_cannot_post_to() -> None:
    async with SlackSimulator() as slack:
        slack.add_channel("C0BILLING", "billing")
        slack.add_channel("C0GERMAN", "german", is_member=False)
        problems = await unreachable_channels(
            token=slack.bot_token,
            api_url=slack.api_url,
            channels=["C0AGENTS", "C0BILLING", "C0GERMAN", "C0NOWHERE"],
        )
    assert set(problems) == {"C0GERMAN", "C0NOWHERE"}
    assert "not a member" in problems["C0GERMAN"]
    assert "no such channel" in problems["C0NOWHERE"]
