"""A customer's /forget in Slack: the request posted in the agent channel with an Erase
button (and Slack's own "are you sure?"), and the press handed to the core.

Implements :class:`handoff.privacy.forget.ForgetDesk`.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck

from handoff.model import DeskThread
from handoff.privacy.forget import EraseConfirmation, ForgetRequest

from .blocks import SlackMessage, plain_section
from .escape import escape_mrkdwn, plain_text
from .listening import ChannelListener
from .own_posts import OwnPosts
from .reveal import pressed
from .sizing import BUTTON_TEXT_LIMIT, clip

logger = logging.getLogger(__name__)

ERASE_ACTION = "tandem_erase"


class EraseHandler(Protocol):
    async def confirm(self, confirmation: EraseConfirmation) -> None: ...


def request_blocks(request: ForgetRequest) -> list[dict[str, Any]]:
    confirm = {
        "title": plain_text("Erase this customer?", emoji=True),
        "text": plain_text(clip(request.text, 300), emoji=True),
        "confirm": plain_text(clip(request.button, BUTTON_TEXT_LIMIT), emoji=True),
        "deny": plain_text("Cancel", emoji=True),
        "style": "danger",
    }
    button = {
        "type": "button",
        "text": plain_text(clip(request.button, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": ERASE_ACTION,
        "value": str(request.customer_id),
        "style": "danger",
        "confirm": confirm,
    }
    return [plain_section(request.text), {"type": "actions", "elements": [button]}]


class SlackForgetDesk:
    def __init__(self, *, posts: OwnPosts, channel: str) -> None:
        self._posts = posts
        self._channel = channel

    async def ask_to_erase(self, request: ForgetRequest) -> None:
        await self._posts.post(
            SlackMessage(text=escape_mrkdwn(request.text), blocks=request_blocks(request)),
            channel=self._channel,
            what=f"the /forget request of customer {request.customer_id}",
        )


class EraseListener(ChannelListener):
    """Bolt's listener for the Erase button, in the agent channel and the routes'; the
    core's handler is given at start."""

    handler: EraseHandler | None = None

    async def on_erase(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=ERASE_ACTION)
            if press is None or not press.value.isdigit() or self.handler is None:
                logger.warning("ignored an Erase press (outside Tandem's channels, or too early)")
                return
            agent = await self._agent(press.user_id)
            where = DeskThread(channel, press.thread_ts or press.message_ts)
            try:
                await self.handler.confirm(
                    EraseConfirmation(customer_id=int(press.value), agent=agent, where=where)
                )
            except Exception:  # the top of a listener: the press is answered; log the stack
                logger.exception("erasing customer %s for %s failed", press.value, agent.user_id)
