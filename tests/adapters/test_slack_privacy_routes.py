"""The privacy buttons (Reveal, Erase) pressed in a route's channel reach the core with that
channel's thread, as in the agent channel; pressed anywhere else, nothing happens."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.slack.delivery import RetryPolicy, web_client
from bot.adapters.slack.directory import Directory
from bot.adapters.slack.forget import ERASE_ACTION, EraseListener
from bot.adapters.slack.inflight import InFlight
from bot.adapters.slack.reveal import REVEAL_ACTION, RevealListener
from bot.simulators.slack import SlackSimulator, defaults
from bot.simulators.slack.events import block_actions_payload
from handoff.privacy.forget import EraseConfirmation
from handoff.privacy.reveal import RevealRequest

pytestmark = pytest.mark.asyncio
ROUTE = "C0BILLING"


class Recorder:
    """The core's side: the requests it was handed."""

    def __init__(self) -> None:
        self.reveals: list[RevealRequest] = []
        self.erasures: list[EraseConfirmation] = []

    async def reveal(self, request: RevealRequest) -> None:
        self.reveals.append(request)

    async def confirm(self, confirmation: EraseConfirmation) -> None:
        self.erasures.append(confirmation)


async def ack(**_: Any) -> None:
    return None


def press(action_id: str, value: str, channel: str) -> dict[str, Any]:
    return block_actions_payload(
        action_id,
        value,
        user=defaults.ALICE_ID,
        channel=channel,
        message_ts="2.0",
        thread_ts="1.0",
        response_url="http://127.0.0.1/response",
    )


async def test_reveal_and_erase_work_in_a_routes_channel_only_among_tandems() -> None:
    async with SlackSimulator() as slack:
        directory = Directory(
            client=web_client(token=slack.bot_token, api_url=slack.api_url, policy=RetryPolicy())
        )
        inflight, core = InFlight(), Recorder()
        channels: dict[str, Any] = {
            "channel": defaults.AGENTS_CHANNEL_ID,
            "directory": directory,
            "inflight": inflight,
            "others": frozenset({ROUTE}),
        }
        reveal, erase = RevealListener(**channels), EraseListener(**channels)
        reveal.handler, erase.handler = core, core
        for channel in (ROUTE, "C0ELSEWHERE"):
            await reveal.on_reveal(ack, press(REVEAL_ACTION, "message:7", channel))  # type: ignore[arg-type]
            await erase.on_erase(ack, press(ERASE_ACTION, "42", channel))  # type: ignore[arg-type]
    [revealed] = core.reveals
    assert (revealed.thread.channel, revealed.thread.thread_ts, revealed.target) == (
        ROUTE,
        "1.0",
        "message:7",
    )
    [erased] = core.erasures
    assert (erased.where.channel, erased.customer_id, erased.agent.user_id) == (
        ROUTE,
        42,
        defaults.ALICE_ID,
    )
