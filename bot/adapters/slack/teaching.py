"""Teaching the bot in Slack: under a failed customer turn, a list of the model's intents
(its top guesses first); the option an agent picks is handed to the core
(:class:`handoff.teaching.Teacher`), which stores the lesson and tells the thread.

Implements :class:`handoff.teaching.TeachOffers`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.model import DeskThread
from handoff.teaching import TeachOffer, TeachRequest

from .blocks import SlackMessage, context, plain_section
from .escape import escape_mrkdwn, plain_text
from .listening import ChannelListener
from .reveal import post_message
from .sizing import clip

logger = logging.getLogger(__name__)

TEACH_ACTION = "tandem_teach"
MAX_OPTIONS = 100  # Slack's limit for a static_select
OPTION_TEXT_LIMIT = 75
PLACEHOLDER_LIMIT = 150
TEXT_LIMIT = 2_000


class TeachHandler(Protocol):
    async def teach(self, request: TeachRequest) -> object: ...


def offer_post(offer: TeachOffer) -> SlackMessage:
    options = [
        {
            "text": plain_text(clip(intent, OPTION_TEXT_LIMIT), emoji=False),
            "value": f"{offer.message_id}:{intent}",
        }
        for intent in offer.choices[:MAX_OPTIONS]
    ]
    picker = {
        "type": "static_select",
        "action_id": TEACH_ACTION,
        "placeholder": plain_text(clip(offer.label, PLACEHOLDER_LIMIT), emoji=True),
        "options": options,
    }
    return SlackMessage(
        text=escape_mrkdwn(clip(f"{offer.prompt} {offer.text}", TEXT_LIMIT)),
        blocks=[
            context(plain_text(clip(offer.prompt, TEXT_LIMIT))),
            plain_section(clip(offer.text, TEXT_LIMIT)),
            {"type": "actions", "elements": [picker]},
        ],
    )


def picked(
    body: Mapping[str, Any], *, channels: frozenset[str]
) -> tuple[str, str, str, int, str] | None:
    """(user, channel, thread, message id, intent) of an option picked in a teaching offer
    in one of ``channels``; None for anything else."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], Mapping) else {}
    container = body.get("container") or {}
    selected = action.get("selected_option") or {}
    value = selected.get("value") if isinstance(selected, Mapping) else None
    user = (body.get("user") or {}).get("id")
    thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    number, _, intent = value.partition(":") if isinstance(value, str) else ("", "", "")
    if (
        action.get("action_id") != TEACH_ACTION
        or container.get("channel_id") not in channels
        or not isinstance(user, str)
        or not isinstance(thread_ts, str)
        or not number.isdigit()
        or not intent
    ):
        return None
    return user, str(container["channel_id"]), thread_ts, int(number), intent


class TeachListener(ChannelListener):
    """Bolt's listener for the intent picked in an offer; the core's handler is given at
    start."""

    handler: TeachHandler | None = None

    async def on_teach(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            choice = picked(body, channels=self._channels)
            if choice is None or self.handler is None:
                logger.warning("ignored a teaching pick (outside a handoff thread, or too early)")
                return
            user, channel, thread_ts, message_id, intent = choice
            agent = await self._agent(user)
            request = TeachRequest(
                thread=DeskThread(channel, thread_ts),
                agent=agent,
                message_id=message_id,
                intent=intent,
            )
            try:
                await self.handler.teach(request)
            except Exception:  # the top of a listener: the pick is answered; log the stack
                logger.exception("teaching message %s by %s failed", message_id, user)


class SlackTeachOffers:
    def __init__(self, *, client: AsyncWebClient) -> None:
        self._client = client

    async def offer_teaching(self, thread: DeskThread, offer: TeachOffer) -> None:
        await post_message(
            self._client,
            offer_post(offer),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"a teaching offer in {thread.thread_ts}",
        )
