"""Three workers on one PostgreSQL and one Redis behave as one service.

Each worker is the whole service (as ``tandem run`` composes it), in webhook mode behind a
round-robin balancer (Telegram's updates and Slack's events spread over all of them); 30
customers ask for a person, then write 10 messages each while agents answer in the
threads; one worker leaves in the middle of it (out of the balancer, stopped) and comes
back later (a SIGTERM's stop: it takes no more updates, drains what it journaled, then
closes). Every customer message reaches its thread once and in order, every agent reply
reaches its customer once and in order (across workers, each lane's events are handled
in the order they were journaled: handoff.lane_order), and Telegram's flood limits hold
across the workers (counted from the simulator's log of sends: per chat and per bot).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import AnyHttpUrl, SecretStr

from bot.app import Service
from bot.sandbox.world import SANDBOX_SIGNING_SECRET, sandbox_settings
from bot.settings import Settings, SlackPacingSection
from bot.simulators.balancer import Balancer
from bot.simulators.slack import SlackSimulator, defaults, events
from bot.simulators.slack.sender import SlackEventSender
from bot.simulators.telegram import TelegramSimulator, telegram_user
from tests.faults.harness import FaultTimes, scenario_limit, scenario_settings, write_config
from tests.support.postgres import fresh_database
from tests.support.rasa_server import RasaEndpoint

T = TypeVar("T")

pytestmark = [
    pytest.mark.rasa,
    pytest.mark.faults,
    scenario_limit(420),
]

WORKERS = 3
CUSTOMERS = 30
MESSAGES = 10  # per customer, after asking for a person
REPLIES = 2  # per customer, from an agent
PER_CHAT = 1.0  # telegram.limits, per second
PER_BOT = 5.0  # low, so that the workers contend for it
WEBHOOK_PATH = "/telegram/webhook"
SECRET = "workers-webhook-secret"
SETTLE = 150.0  # seconds for everything to arrive
TAG = re.compile(r"\bc(\d+) m(\d+)\b")
REPLY = re.compile(r"\breply (\d+) to c(\d+)\b")


def worker_settings(
    base: Settings,
    *,
    telegram: TelegramSimulator,
    slack: SlackSimulator,
    url: str,
    redis_url: str,
    balancer: Balancer,
    folder: Path,
) -> Settings:
    settings = sandbox_settings(
        base,
        telegram=telegram,
        slack=slack,
        database=folder / "unused.db",
        database_url=url,
        redis_url=redis_url,
    )
    env = settings.env.model_copy(
        update={
            "telegram_webhook_url": AnyHttpUrl(f"http://127.0.0.1:{balancer.port}{WEBHOOK_PATH}"),
            "telegram_webhook_secret": SecretStr(SECRET),
        }
    )
    return dataclasses.replace(settings, env=env)


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_url, prefix="tandem_workers") as url:
        yield url.render_as_string(hide_password=False)


async def test_three_workers_handle_every_message_once_within_the_limits(
    rasa_endpoint: RasaEndpoint, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    base = scenario_settings(write_config(tmp_path, FaultTimes()), rasa_endpoint)
    config = base.config.model_copy(
        update={
            "state": base.config.state.model_copy(
                update={"key_prefix": f"workers{uuid.uuid4().hex[:8]}"}
            ),
            # Slack's pace is another test's (tests/adapters/test_slack_pacing.py, tandem
            # bench slack-burst); here it is shared by the workers, but quick.
            "slack": base.config.slack.model_copy(
                update={"pacing": SlackPacingSection(per_second=20.0, burst=5)}
            ),
            "telegram": base.config.telegram.model_copy(
                update={
                    "limits": base.config.telegram.limits.model_copy(
                        update={"per_chat_per_second": PER_CHAT, "per_bot_per_second": PER_BOT}
                    )
                }
            ),
        }
    )
    base = dataclasses.replace(base, config=config)
    balancer = Balancer()
    async with TelegramSimulator() as telegram, SlackSimulator() as slack:
        await balancer.start()
        workers: list[Service] = []
        configured: list[Settings] = []
        try:
            for number in range(WORKERS):
                folder = tmp_path / f"worker-{number}"
                folder.mkdir()
                settings = worker_settings(
                    base,
                    telegram=telegram,
                    slack=slack,
                    url=database_url,
                    redis_url=redis_url,
                    balancer=balancer,
                    folder=folder,
                )
                settings = dataclasses.replace(
                    settings,
                    config=settings.config.model_copy(update={"data_dir": folder / "data"}),
                )
                configured.append(settings)
                workers.append(await started(Service(settings), balancer))
            await run_scenario(telegram, slack, balancer, workers, configured)
        finally:
            for service in workers:
                await service.stop()
            await balancer.stop()


async def run_scenario(
    telegram: TelegramSimulator,
    slack: SlackSimulator,
    balancer: Balancer,
    workers: list[Service],
    configured: Sequence[Settings],
) -> None:
    chats = [700_100 + n for n in range(CUSTOMERS)]
    users = {chat: telegram_user(chat, first_name=f"C{chat}") for chat in chats}
    for chat in chats:
        telegram.send_command(chat, "/human", user=users[chat])
    cards = await until(lambda: cards_by_chat(slack, chats), len(chats), "cards")
    sender = SlackEventSender(
        endpoint_url=f"http://127.0.0.1:{balancer.port}/slack/events",
        signing_secret=SANDBOX_SIGNING_SECRET,
        response_url_base=slack.response_url_base,
    )
    stopped = False
    for m in range(1, MESSAGES + 1):
        for n, chat in enumerate(chats):
            telegram.send_text(chat, f"c{n} m{m}", user=users[chat])
        if m <= REPLIES:
            for n, chat in enumerate(chats):
                await agent_reply(slack, sender, cards[chat], f"reply {m} to c{n}")
        if m == MESSAGES // 2 and not stopped:
            stopping = workers[1]
            assert stopping.http is not None
            balancer.ports.remove(stopping.http.port or 0)
            # One worker leaves in the middle of it (SIGTERM: what it journaled and has not
            # handled within a few seconds waits in its journal for its restart).
            await stopping.stop()
            stopped = True
    # And comes back: the balancer spreads over three workers again.
    workers[1] = await started(Service(configured[1]), balancer)

    shown = await until(
        lambda: shown_in_threads(slack, cards), CUSTOMERS * MESSAGES, "customer messages"
    )
    replies = await until(lambda: replies_to(telegram, chats), CUSTOMERS * REPLIES, "agent replies")
    for n, chat in enumerate(chats):
        assert sorted(shown[chat]) == list(range(1, MESSAGES + 1)), f"c{n}: {shown[chat]}"
        assert sorted(replies[chat]) == list(range(1, REPLIES + 1)), f"c{n}: {replies[chat]}"
    # Two messages of one chat accepted by two workers a moment apart are handled in the
    # order they were journaled (handoff.lane_order), and the worker that left drained
    # what it had taken before stopping: nothing overtook an earlier message of its chat.
    behind = sum(
        sum(1 for a, b in itertools.pairwise(numbers) if b < a)
        for numbers in (*shown.values(), *replies.values())
    )
    print(f"messages behind a later one of their chat: {behind}")
    assert behind == 0
    check_flood_limits(telegram)


async def started(service: Service, balancer: Balancer) -> Service:
    await service.start()
    assert service.http is not None
    assert service.http.port is not None
    balancer.ports.append(service.http.port)
    return service


async def agent_reply(
    slack: SlackSimulator, sender: SlackEventSender, card_ts: str, text: str
) -> None:
    posted = slack.add_message(
        channel=defaults.AGENTS_CHANNEL_ID, user=defaults.ALICE_ID, text=text, thread_ts=card_ts
    )
    event = events.user_message_event(
        channel=defaults.AGENTS_CHANNEL_ID,
        user=defaults.ALICE_ID,
        text=text,
        ts=posted.ts,
        thread_ts=card_ts,
    )
    for _ in range(20):  # Slack retries an event a worker could not take
        answer = await sender.event_callback(event)
        if answer.status < 300:
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"no worker took the agent's reply {text!r}")


def cards_by_chat(slack: SlackSimulator, chats: Sequence[int]) -> dict[int, str]:
    found = {}
    for card in slack.messages_in(defaults.AGENTS_CHANNEL_ID):
        for chat in chats:
            if f"C{chat}" in (card.text or ""):
                found[chat] = card.ts
    return found


def shown_in_threads(slack: SlackSimulator, cards: dict[int, str]) -> dict[int, list[int]]:
    """Per chat, the customer's message numbers in its thread, in the thread's order."""
    shown = {}
    for chat, ts in cards.items():
        texts = [
            block["text"]["text"]
            for reply in slack.messages_in(defaults.AGENTS_CHANNEL_ID, ts)[1:]
            for block in reply.blocks or []
            if block.get("type") == "section" and isinstance(block.get("text"), dict)
        ]
        shown[chat] = [int(m) for text in texts for _, m in TAG.findall(text)]
    return shown


def replies_to(telegram: TelegramSimulator, chats: Sequence[int]) -> dict[int, list[int]]:
    return {
        chat: [int(r) for sent in telegram.messages_to(chat) for r, _ in REPLY.findall(sent.text)]
        for chat in chats
    }


async def until(probe: Callable[[], dict[int, T]], expected: int, what: str) -> dict[int, T]:
    """``probe()`` once it holds ``expected`` items in all (a benchmark-like wait on the
    simulators, bounded by SETTLE)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE
    while True:
        found = probe()
        count = sum(len(v) if isinstance(v, list) else 1 for v in found.values())
        if count >= expected:
            print(f"all {expected} {what} after {SETTLE - (deadline - loop.time()):.1f} s")
            return found
        if loop.time() > deadline:
            print(f"only {count} of {expected} {what} within {SETTLE:.0f} s")
            return found
        await asyncio.sleep(0.25)


def check_flood_limits(telegram: TelegramSimulator) -> None:
    """No chat got two messages within less than a second (less a margin for the HTTP
    round trip), and the bot never sent more than PER_BOT in a second (plus one)."""
    sends = [call for call in telegram.calls_to("sendMessage") if call.status == 200]
    moments = sorted((call.at, call.params.get("chat_id")) for call in sends)
    for start, (moment, _) in enumerate(moments):
        window = [(round(m - moment, 3), chat) for m, chat in moments[start:] if m - moment < 1.0]
        assert len(window) <= PER_BOT + 1, f"{len(window)} sends within a second: {window}"
    by_chat: dict[object, list[float]] = {}
    for call in sends:
        by_chat.setdefault(call.params.get("chat_id"), []).append(call.at)
    for chat, times in by_chat.items():
        gaps = [b - a for a, b in itertools.pairwise(sorted(times))]
        assert all(gap > 0.8 for gap in gaps), f"chat {chat}: gaps {gaps}"
