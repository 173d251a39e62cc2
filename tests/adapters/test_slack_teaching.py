# ruff: noqa: F811 - the Slack adapter tests' fixtures are imported, then requested by name
"""The intent an agent picks in a teaching offer, read from Slack's payload: in the agent
channel or a route's, never in another channel. The "Teach the bot this" shortcut and the
button under an offer open the teaching form (or the agent is told why not); the form takes
exactly one intent, and refuses in place a new intent's name that cannot be."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.slack.teach_form import TEACH_OTHER_ACTION, TEACH_SHORTCUT, TEACH_VIEW
from bot.adapters.slack.teaching import TEACH_ACTION, picked
from bot.http import HttpServer
from bot.simulators.slack import SlackEventSender, SlackSimulator
from bot.simulators.slack.events import block_actions_payload
from handoff.model import Agent, DeskThread
from handoff.teaching_model import TeachForm, TeachOffer, TeachRequest
from tests.adapters.test_slack_adapter import (  # noqa: F401 - fixtures, requested by name
    AGENTS,
    ALICE,
    OTHER_CHANNEL,
    SIGNING_SECRET,
    RecordingHandler,
    handler,
    http,
    sim,
    slack_adapter,
)

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


# --- the teaching form: the shortcut, the button under an offer, its submission -----------


class FakeTeacher:
    """The core's side: a form for message 7 of thread (AGENTS, 1.0) posted as 1.5, and
    for messages 8 and 9 merged into its post 1.8; the requests it was handed."""

    def __init__(self) -> None:
        self.taught: list[TeachRequest] = []
        self.asked: list[tuple[DeskThread, str, int]] = []

    async def teach(self, request: TeachRequest) -> None:
        self.taught.append(request)

    async def form(
        self, thread: DeskThread, agent: Agent, *, post_ts: str = "", message_id: int = 0
    ) -> TeachForm | str:
        self.asked.append((thread, post_ts, message_id))
        if thread != DeskThread(AGENTS, "1.0") or (post_ts or str(message_id)) not in {
            "1.5",
            "1.8",
            "7",
        }:
            return f"{agent.display_name}: not a customer's message"
        offer = TeachOffer(
            message_id=7,
            text="can I pay with apple pay",
            prompt="",
            label="Pick the intent",
            choices=("billing_question", "greet", "out_of_scope"),
            other="Other or new intent…",
        )
        return TeachForm(
            thread=thread,
            offer=offer,
            title="Teach the bot",
            new="…or new",
            hint="a_b",
            submit="Teach",
            merged=((8, "hello"), (9, "my parcel never came")) if post_ts == "1.8" else (),
            which="Which message?" if post_ts == "1.8" else "",
        )

    def name_problem(self, name: str) -> str | None:
        return None if name == "payment_methods" else f"{name} cannot be"

    def choose_one(self) -> str:
        return "one of the two"

    def choose_message(self) -> str:
        return "choose the message"


@pytest.fixture
async def taught(
    sim: SlackSimulator, handler: RecordingHandler, http: HttpServer
) -> AsyncIterator[tuple[FakeTeacher, SlackEventSender]]:
    teacher = FakeTeacher()
    slack = slack_adapter(sim, handler, http=http)
    await http.start()
    await slack.start(teach=teacher)
    sender = SlackEventSender(
        endpoint_url=f"http://127.0.0.1:{http.port}/slack/events",
        signing_secret=SIGNING_SECRET,
        response_url_base=sim.response_url_base,
    )
    yield teacher, sender
    await slack.stop()


def customer_post(ts: str, channel: str = AGENTS) -> dict[str, Any]:
    return {"type": "message", "ts": ts, "thread_ts": "1.0", "text": "can I pay with apple pay"}


async def test_the_shortcut_opens_the_form_or_says_why_not(
    sim: SlackSimulator, taught: tuple[FakeTeacher, SlackEventSender]
) -> None:
    teacher, sender = taught
    mark = sim.mark()
    answer = await sender.message_shortcut(
        TEACH_SHORTCUT, customer_post("1.5"), user=ALICE, channel=AGENTS
    )
    assert answer.status == 200
    opened = await sim.wait_for_call("views.open", since=mark)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == TEACH_VIEW
    assert json.loads(view["private_metadata"]) == {
        "channel": AGENTS,
        "thread_ts": "1.0",
        "message_id": 7,
    }
    assert [o["value"] for o in view["blocks"][1]["element"]["options"]][-1] == "out_of_scope"

    await sender.message_shortcut(TEACH_SHORTCUT, customer_post("1.6"), user=ALICE, channel=AGENTS)
    told = await sim.wait_for_response_post()
    assert "not a customer's message" in told.body["text"]
    await sender.message_shortcut(
        TEACH_SHORTCUT, customer_post("1.5"), user=ALICE, channel=OTHER_CHANNEL
    )
    await sim.wait_for_response_post(since=1)
    assert teacher.asked[-1][0].channel == ""  # not one of Tandem's: no handoff is looked for there


async def test_the_form_takes_one_intent_and_refuses_in_place_what_cannot_be(
    sim: SlackSimulator, taught: tuple[FakeTeacher, SlackEventSender]
) -> None:
    teacher, sender = taught
    mark = sim.mark()
    await sender.block_action(
        TEACH_OTHER_ACTION, "7", user=ALICE, channel=AGENTS, message_ts="1.2", thread_ts="1.0"
    )
    opened = await sim.wait_for_call("views.open", since=mark)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view

    async def submit(picked: str | None, typed: str | None) -> Any:
        values: dict[str, dict[str, Any]] = {
            "pick": {
                "intent": {
                    "type": "static_select",
                    "selected_option": {"value": picked} if picked else None,
                }
            },
            "new": {"name": {"type": "plain_text_input", "value": typed}},
        }
        answer = await sender.view_submission({**view, "id": "V1"}, values, user=ALICE)
        assert answer.status == 200
        return json.loads(answer.body) if answer.body else {}

    assert (await submit(None, None))["errors"] == {"pick": "one of the two"}
    assert (await submit("greet", "payment_methods"))["errors"] == {"pick": "one of the two"}
    assert (await submit(None, "Pay!"))["errors"] == {"new": "Pay! cannot be"}
    assert teacher.taught == []
    assert await submit(None, " payment_methods ") == {}
    assert await submit("out_of_scope", None) == {}
    assert [(r.thread, r.message_id, r.intent, r.agent.user_id) for r in teacher.taught] == [
        (DeskThread(AGENTS, "1.0"), 7, "payment_methods", ALICE),
        (DeskThread(AGENTS, "1.0"), 7, "out_of_scope", ALICE),
    ]


async def test_the_form_of_a_merged_post_teaches_the_message_chosen(
    sim: SlackSimulator, taught: tuple[FakeTeacher, SlackEventSender]
) -> None:
    teacher, sender = taught
    mark = sim.mark()
    await sender.message_shortcut(TEACH_SHORTCUT, customer_post("1.8"), user=ALICE, channel=AGENTS)
    opened = await sim.wait_for_call("views.open", since=mark)
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    which = view["blocks"][0]
    assert (which["block_id"], which["optional"], which["element"]["type"]) == (
        "message",
        False,
        "radio_buttons",
    )
    assert [(o["text"]["text"], o["value"]) for o in which["element"]["options"]] == [
        ("hello", "8"),
        ("my parcel never came", "9"),
    ]
    assert json.loads(view["private_metadata"])["message_id"] == 0  # none until chosen

    async def submit(message: str | None) -> Any:
        values: dict[str, dict[str, Any]] = {
            "message": {
                "which": {
                    "type": "radio_buttons",
                    "selected_option": {"value": message} if message else None,
                }
            },
            "pick": {"intent": {"type": "static_select", "selected_option": {"value": "greet"}}},
            "new": {"name": {"type": "plain_text_input", "value": None}},
        }
        answer = await sender.view_submission({**view, "id": "V2"}, values, user=ALICE)
        assert answer.status == 200
        return json.loads(answer.body) if answer.body else {}

    assert (await submit(None))["errors"] == {"message": "choose the message"}
    assert teacher.taught == []
    assert await submit("9") == {}
    assert [(r.message_id, r.intent) for r in teacher.taught] == [(9, "greet")]
