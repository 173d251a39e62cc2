"""Drafts in Slack: the bot's answers posted under a customer's message, each with a Send
button; a click hands the draft to the core as the clicking agent's reply
(:class:`handoff.drafts.DraftSender`), and the post then says who sent what (so nobody sends
it twice).

Implements :class:`handoff.drafts.DraftOffers`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.drafts import DraftOffer, DraftSend
from handoff.errors import DeliveryDeferred, DeliveryError, IntakeUnavailable
from handoff.model import Agent, DeskThread

from .blocks import SlackMessage, context, plain_section
from .delivery import call
from .directory import Directory
from .escape import escape_mrkdwn, plain_text
from .inflight import InFlight
from .reveal import post_message, pressed
from .sizing import BUTTON_TEXT_LIMIT, clip

logger = logging.getLogger(__name__)

SEND_DRAFT_ACTION = "tandem_send_draft"
VALUE_LIMIT = 2_000  # Slack's limit for a button's value: longer drafts are not offered
TEXT_LIMIT = 2_000


class DraftSendHandler(Protocol):
    async def send_draft(self, send: DraftSend) -> str: ...


def offer_post(offer: DraftOffer) -> SlackMessage:
    blocks: list[dict[str, Any]] = [context(plain_text(clip(offer.prompt, TEXT_LIMIT)))]
    for number, draft in enumerate(offer.drafts):
        if len(draft.text) > VALUE_LIMIT:
            continue
        button = {
            "type": "button",
            "text": plain_text(clip(offer.send_label, BUTTON_TEXT_LIMIT), emoji=True),
            "action_id": SEND_DRAFT_ACTION,
            "value": draft.text,
        }
        section = plain_section(clip(draft.text, TEXT_LIMIT))
        blocks.append({**section, "block_id": f"draft_{number}", "accessory": button})
    return SlackMessage(text=escape_mrkdwn(clip(offer.prompt, TEXT_LIMIT)), blocks=blocks)


def action_ts(body: Mapping[str, Any]) -> str | None:
    actions = body.get("actions") or []
    stamp = actions[0].get("action_ts") if actions and isinstance(actions[0], Mapping) else None
    return stamp if isinstance(stamp, str) else None


class DraftListener:
    """Bolt's listener for Send; the core's handler is given at start."""

    def __init__(
        self, *, client: AsyncWebClient, channel: str, directory: Directory, inflight: InFlight
    ) -> None:
        self._client = client
        self._channel = channel
        self._directory = directory
        self._inflight = inflight
        self.handler: DraftSendHandler | None = None

    async def on_send(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            press = pressed(body, channel=self._channel, action_id=SEND_DRAFT_ACTION)
            stamp = action_ts(body)
            if press is None or press.thread_ts is None or stamp is None or self.handler is None:
                logger.warning("ignored a Send press (outside a handoff thread, or too early)")
                return
            agent = Agent(
                user_id=press.user_id,
                display_name=await self._directory.display_name(press.user_id),
            )
            send = DraftSend(
                thread=DeskThread(self._channel, press.thread_ts),
                agent=agent,
                text=press.value,
                press_id=stamp,
            )
            try:
                shown = await self.handler.send_draft(send)
            except IntakeUnavailable as exc:  # not taken: the buttons stay for another try
                logger.warning("a draft sent by %s was not taken: %s", press.user_id, exc)
                return
            except Exception:  # the top of a listener: the press is answered; log the stack
                logger.exception("sending a draft for %s failed", press.user_id)
                return
            await self._replace(press.message_ts, shown)

    async def _replace(self, ts: str, text: str) -> None:
        """The drafts' post now says who sent what; best effort (the reply is on its way)."""
        try:
            await call(
                f"the drafts {ts}",
                lambda: self._client.chat_update(
                    channel=self._channel,
                    ts=ts,
                    text=escape_mrkdwn(clip(text, TEXT_LIMIT)),
                    blocks=[context(plain_text(clip(text, TEXT_LIMIT)))],
                ),
            )
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not mark the drafts %s as sent: %s", ts, exc)


class SlackDraftOffers:
    def __init__(self, *, client: AsyncWebClient) -> None:
        self._client = client

    async def offer_drafts(self, thread: DeskThread, offer: DraftOffer) -> None:
        await post_message(
            self._client,
            offer_post(offer),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"drafts in {thread.thread_ts}",
        )
