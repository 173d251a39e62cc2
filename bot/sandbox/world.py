"""The offline sandbox: the whole service (managed Rasa included) against the Telegram and
Slack simulators, in one process, with a customer and two agents to act through.

Nothing here is a shortcut: the service is the same composition as in production (real
PTB client, real Bolt app in HTTP mode with signed requests, real storage); only the
platforms' servers are the local simulators.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AnyHttpUrl, SecretStr

from bot.app import Service
from bot.settings import Settings
from bot.simulators.slack import (
    EndpointResponse,
    Message,
    Signature,
    SlackEventSender,
    SlackSimulator,
    defaults,
    events,
)
from bot.simulators.telegram import JsonDict, SentMessage, TelegramSimulator, telegram_user
from handoff.clock import utc_now

logger = logging.getLogger(__name__)

# Invented values for the simulated platforms; not secrets of anything real.
SANDBOX_SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105
CUSTOMER_CHAT = 424242
CUSTOMER = telegram_user(CUSTOMER_CHAT, first_name="Ada", last_name="Lovelace", username="ada")
AGENTS = {"alice": defaults.ALICE_ID, "bob": defaults.BOB_ID}
_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
CARD_ACTIONS = {
    "claim": "tandem_claim",
    "return": "tandem_return",
    "close": "tandem_close",
    "retract": "tandem_retract",
}


def sandbox_settings(
    settings: Settings,
    *,
    telegram: TelegramSimulator,
    slack: SlackSimulator,
    database: Path,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> Settings:
    """The operator's settings, pointed at the simulators, with a database of its own
    (fresh each run: the simulators' message ids start again at 1): an SQLite file at
    ``database`` and in-process live state, unless URLs of others are given."""
    env = settings.env.model_copy(
        update={
            "telegram_bot_token": SecretStr(telegram.token),
            "telegram_api_url": AnyHttpUrl(telegram.api_url),
            "telegram_webhook_url": None,
            "telegram_webhook_secret": None,
            "slack_bot_token": SecretStr(slack.bot_token),
            "slack_app_token": None,
            "slack_signing_secret": SecretStr(SANDBOX_SIGNING_SECRET),
            "slack_api_url": AnyHttpUrl(slack.api_url),
            "slack_agent_channel": defaults.AGENTS_CHANNEL_ID,
            "tandem_http_host": "127.0.0.1",
            "tandem_http_port": 0,
            "database_url": SecretStr(database_url or f"sqlite+aiosqlite:///{database}"),
            "redis_url": SecretStr(redis_url) if redis_url else None,
        }
    )
    return dataclasses.replace(settings, env=env)


def with_approvers(settings: Settings) -> Settings:
    """``settings`` with the simulator's @support-leads group (Bob) as the approvers of
    sensitive drafts when none are configured, so that the console shows them."""
    agents = settings.config.agents
    if agents.approvers:
        return settings
    leads = agents.model_copy(update={"approvers": (f"@{defaults.LEADS_GROUP_HANDLE}",)})
    return dataclasses.replace(
        settings, config=settings.config.model_copy(update={"agents": leads})
    )


class SkippedTime:
    """The time :meth:`Sandbox.later` skipped: each skip counts for every timer running
    when it was made (the SLA ladder's, the customer's wait), not for those started after,
    so the sandbox shows in a moment what takes minutes."""

    def __init__(self) -> None:
        self._skips: list[tuple[datetime, float]] = []

    def skip(self, seconds: float) -> None:
        self._skips.append((utc_now(), seconds))

    def __call__(self, start: datetime, end: datetime) -> float:
        return sum(seconds for at, seconds in self._skips if start <= at <= end)


class Sandbox:
    """Start it, then act as the customer (Telegram) and as agents (Slack)."""

    def __init__(
        self, settings: Settings, *, database_url: str | None = None, redis_url: str | None = None
    ) -> None:
        self._base = settings
        self._database_url = database_url
        self._redis_url = redis_url
        self.telegram = TelegramSimulator()
        self.slack = SlackSimulator()
        self.settings: Settings | None = None
        self.service: Service | None = None
        self.skipped = SkippedTime()
        self._sender: SlackEventSender | None = None
        self._scratch = tempfile.TemporaryDirectory(prefix="tandem-sandbox-")

    async def start(self) -> None:
        # Everything the sandbox talks to is on this machine, and slack_sdk ignores NO_PROXY:
        # a proxy from the environment would swallow the simulators' traffic.
        for name in _PROXY_VARIABLES:
            if os.environ.pop(name, None) is not None:
                logger.info("sandbox: ignoring %s (all traffic is local)", name)
        await self.telegram.start()
        await self.slack.start()
        try:
            await self._start_service()
        except BaseException:
            await self.stop()
            raise

    async def restart_service(self) -> None:
        """Stop the service and start a new one on the same database, as after a crash or
        a deployment; the platforms (simulators) keep running."""
        await self.stop_service()
        await self._start_service()

    async def stop_service(self) -> None:
        """The service stops (a deployment, a crash); the platforms keep going."""
        if self.service is not None:
            await self.service.stop()
            self.service = None

    async def stop(self) -> None:
        await self.stop_service()
        await self.telegram.stop()
        await self.slack.stop()
        self._scratch.cleanup()

    async def _start_service(self) -> None:
        settings = sandbox_settings(
            self._base,
            telegram=self.telegram,
            slack=self.slack,
            database=Path(self._scratch.name) / "sandbox.db",
            database_url=self._database_url,
            redis_url=self._redis_url,
        )
        self.settings = settings  # the running service's (its database, its project)
        self.service = Service(settings, skipped=self.skipped)
        await self.service.start()
        assert self.service.http is not None
        assert self.service.http.port is not None
        self._sender = SlackEventSender(
            endpoint_url=f"http://127.0.0.1:{self.service.http.port}/slack/events",
            signing_secret=SANDBOX_SIGNING_SECRET,
            response_url_base=self.slack.response_url_base,
        )

    async def later(self, seconds: float) -> int:
        """``seconds`` pass on the service's timers, which then look at the time at once;
        returns how many SLA steps that took."""
        if seconds < 0:
            raise ValueError("time only moves forward: give seconds >= 0")
        self.skipped.skip(seconds)
        assert self.service is not None
        assert self.service.sla is not None
        return await self.service.sla.tick()

    async def quiet_down(self, *, limit: float = 30.0) -> bool:
        """Wait until the service has fetched every customer update and neither platform has
        seen a call for a while (True), or ``limit`` seconds passed (False). The while is
        longer than Telegram's pace in one chat, so a paced message is not taken for quiet.

        For scripted input (standard input is not a terminal): the next line then acts on
        what the previous one caused, and nothing is cut off when the input ends."""
        quiet = self._base.config.telegram.limits.per_chat_interval + 0.3
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        seen = (-1, -1)
        while loop.time() < deadline:
            now = (len(self.telegram.calls), self.slack.mark())
            if now == seen and not self.telegram.pending_updates:
                return True
            seen = now
            await asyncio.sleep(quiet)
        return False

    # --- the customer, in Telegram ------------------------------------------------------

    # ``customer`` is a Telegram user object; its id is the private chat's id.

    def customer_says(self, text: str, *, customer: JsonDict = CUSTOMER) -> None:
        self.telegram.send_text(customer["id"], text, user=customer)

    def customer_presses(
        self, message: SentMessage, data: str, *, customer: JsonDict = CUSTOMER
    ) -> None:
        self.telegram.press_button(customer["id"], message.message_id, data, user=customer)

    def customer_view(self, *, customer: JsonDict = CUSTOMER) -> list[SentMessage]:
        return self.telegram.messages_to(customer["id"])

    async def bot_messages(
        self, count: int, *, customer: JsonDict = CUSTOMER, timeout: float = 15.0
    ) -> list[SentMessage]:
        """The messages the customer has received, once there are at least ``count``."""
        return await self.telegram.wait_for_messages(customer["id"], count, timeout=timeout)

    # --- agents, in Slack ---------------------------------------------------------------

    def cards(self) -> list[Message]:
        """The handoff cards (thread parents) in the agent channel, oldest first."""
        return [
            m
            for m in self.slack.messages_in(defaults.AGENTS_CHANNEL_ID)
            if m.bot_id is not None and not m.is_reply
        ]

    def thread(self, card: Message) -> list[Message]:
        return self.slack.messages_in(defaults.AGENTS_CHANNEL_ID, card.ts)[1:]

    async def agent_says(
        self,
        agent: str,
        card: Message,
        text: str,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        signature: Signature = Signature.VALID,
    ) -> tuple[Message, EndpointResponse]:
        """An agent replies in a card's thread: the message exists in Slack, and Slack
        sends the signed event to the service (a redelivery, or a forged request, with the
        keyword arguments)."""
        user = AGENTS[agent]
        posted = self.slack.add_message(
            channel=defaults.AGENTS_CHANNEL_ID, user=user, text=text, thread_ts=card.ts
        )
        event = events.user_message_event(
            channel=defaults.AGENTS_CHANNEL_ID,
            user=user,
            text=text,
            ts=posted.ts,
            thread_ts=card.ts,
        )
        answer = await self.slack_events.event_callback(
            event, event_id=event_id, retry_num=retry_num, signature=signature
        )
        return posted, answer

    async def agent_revises(
        self, agent: str, card: Message, reply: Message, text: str | None
    ) -> EndpointResponse:
        """The agent edits their ``reply`` in a card's thread to read ``text``, or deletes
        it (``text`` None): Slack sends the change as a signed event."""
        original = events.user_message_event(
            channel=defaults.AGENTS_CHANNEL_ID,
            user=AGENTS[agent],
            text=reply.text,
            ts=reply.ts,
            thread_ts=card.ts,
        )
        if text is None:
            change = events.message_deleted_event(original)
        else:
            change = events.message_changed_event(original, text=text)
        return await self.slack_events.event_callback(change)

    async def agent_presses(self, agent: str, card: Message, action: str) -> None:
        """An agent clicks Claim, Return to bot or Close on a card."""
        value = _button_value(card.blocks or [], CARD_ACTIONS[action])
        await self.slack_events.block_action(
            CARD_ACTIONS[action],
            value,
            user=AGENTS[agent],
            channel=defaults.AGENTS_CHANNEL_ID,
            message_ts=card.ts,
        )

    async def agent_presses_privacy(self, agent: str, action_id: str) -> None:
        """An agent clicks the newest button ``action_id`` in the agent channel: Reveal
        (under masked personal data in a thread), Erase (under a customer's /forget
        request), Retry, a draft's Send or Request approval, an approvers' Approve."""
        for message in reversed(self.slack.messages_in(defaults.AGENTS_CHANNEL_ID)):
            posts = [message, *self.slack.messages_in(defaults.AGENTS_CHANNEL_ID, message.ts)]
            for post in reversed(posts):
                try:
                    value = _button_value(post.blocks or [], action_id)
                except LookupError:
                    continue
                await self.slack_events.block_action(
                    action_id,
                    value,
                    user=AGENTS[agent],
                    channel=defaults.AGENTS_CHANNEL_ID,
                    message_ts=post.ts,
                    thread_ts=post.thread_ts if post.is_reply else None,
                )
                return
        raise LookupError(f"no {action_id} button in the agent channel")

    async def agent_command(self, agent: str, text: str) -> EndpointResponse:
        """An agent types ``/tandem <text>`` in the agent channel; Tandem's answer (only
        that agent sees it) is the response."""
        return await self.slack_events.slash_command(
            "/tandem", text, user=AGENTS[agent], channel=defaults.AGENTS_CHANNEL_ID
        )

    @property
    def slack_events(self) -> SlackEventSender:
        """Slack's side of the Events API, pointed at the service's /slack/events."""
        assert self._sender is not None, "start the sandbox first"
        return self._sender


def _button_value(blocks: Sequence[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element.get("value", ""))
    raise LookupError(f"the card has no {action_id} button now")
