"""Masked personal data in Slack: the line under a masked message with its Reveal button,
the press of that button handed to the core (which answers the agent privately), and the
removal of Tandem's posts from a thread when a customer is erased.

Implements :class:`handoff.privacy.desk.RevealOffers` and
:class:`handoff.privacy.rights.ThreadCleaner`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import DeskThread
from handoff.privacy.desk import RevealOffer
from handoff.privacy.errors import PrivacyError
from handoff.privacy.reveal import RevealRequest

from .blocks import SlackMessage, context
from .delivery import RetryPolicy, call, web_client
from .escape import escape_mrkdwn, plain_text
from .listening import ChannelListener
from .own_posts import OwnPosts
from .sizing import BUTTON_TEXT_LIMIT, clip

logger = logging.getLogger(__name__)

REVEAL_ACTION = "tandem_reveal"
OFFER_TEXT_LIMIT = 2_000


class RevealHandler(Protocol):
    async def reveal(self, request: RevealRequest) -> None: ...


def offer_post(offer: RevealOffer) -> SlackMessage:
    button = {
        "type": "button",
        "text": plain_text(clip(offer.button, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": REVEAL_ACTION,
        "value": offer.target,
    }
    return SlackMessage(
        text=escape_mrkdwn(clip(offer.text, OFFER_TEXT_LIMIT)),
        blocks=[
            context(plain_text(clip(offer.text, OFFER_TEXT_LIMIT))),
            {"type": "actions", "elements": [button]},
        ],
    )


@dataclass(frozen=True, slots=True)
class Press:
    """A button of Tandem's pressed in the agent channel: by whom, its value, and the
    message it is on (with that message's thread, if it is a reply)."""

    user_id: str
    value: str
    message_ts: str
    thread_ts: str | None


def pressed(body: Mapping[str, Any], *, channel: str, action_id: str) -> Press | None:
    """The press in ``body`` (a ``block_actions`` payload) of button ``action_id`` in
    ``channel``; None for anything else."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], Mapping) else {}
    container = body.get("container") or {}
    message = body.get("message") or {}
    in_channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    user = (body.get("user") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    parent = container.get("thread_ts") or message.get("thread_ts")
    value = action.get("value")
    if (
        action.get("action_id") != action_id
        or in_channel != channel
        or not isinstance(user, str)
        or not isinstance(ts, str)
        or not isinstance(value, str)
    ):
        return None
    return Press(
        user_id=user,
        value=value,
        message_ts=ts,
        thread_ts=parent if isinstance(parent, str) else None,
    )


class RevealListener(ChannelListener):
    """Bolt's listener for the Reveal button, in the agent channel and the routes'; the
    core's handler is given at start."""

    handler: RevealHandler | None = None

    async def on_reveal(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=REVEAL_ACTION)
            if press is None or press.thread_ts is None or self.handler is None:
                logger.warning("ignored a Reveal press (outside a handoff thread, or too early)")
                return
            agent = await self._agent(press.user_id)
            thread = DeskThread(channel, press.thread_ts)
            try:
                await self.handler.reveal(
                    RevealRequest(thread=thread, agent=agent, target=press.value)
                )
            except Exception:  # the top of a listener: the press is answered; log the stack
                logger.exception("revealing %s for %s failed", press.value, press.user_id)


class SlackRevealOffers:
    def __init__(self, *, posts: OwnPosts) -> None:
        self._posts = posts

    async def offer_reveal(self, thread: DeskThread, offer: RevealOffer) -> None:
        await self._posts.post(
            offer_post(offer),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"a reveal offer in {thread.thread_ts}",
        )


class SlackThreadCleaner:
    """Deletes the posts of the app whose ``bot_id`` is given (a bot token may delete only
    its own messages; agents' replies stay, and the report says so)."""

    def __init__(self, *, client: AsyncWebClient, bot_id: str, user_id: str) -> None:
        self._client = client
        self._bot_id = bot_id
        self._user_id = user_id

    async def delete_thread(self, thread: DeskThread) -> int:
        what = f"thread {thread.thread_ts}"
        try:
            answer = await call(
                what,
                lambda: self._client.conversations_replies(
                    channel=thread.channel, ts=thread.thread_ts, limit=1000
                ),
            )
            ours = [
                str(m["ts"])
                for m in answer.get("messages") or []
                if m.get("bot_id") == self._bot_id or m.get("user") == self._user_id
            ]
            # Replies first, the card (the thread's parent) last.
            for ts in sorted(ours, key=lambda ts: ts == thread.thread_ts):
                await self._delete(thread.channel, ts, what=what)
        except (DeliveryError, DeliveryDeferred) as exc:
            raise PrivacyError(str(exc)) from exc
        return len(ours)

    async def delete_file(self, file_id: str) -> None:
        try:
            await call(f"file {file_id}", lambda: self._client.files_delete(file=file_id))
        except (DeliveryError, DeliveryDeferred) as exc:
            raise PrivacyError(str(exc)) from exc

    async def _delete(self, channel: str, ts: str, *, what: str) -> None:
        await call(what, lambda: self._client.chat_delete(channel=channel, ts=ts))


async def connect_cleaner(*, bot_token: str, api_url: str) -> SlackThreadCleaner:
    """A cleaner for a command run outside the service: who the app is, from auth.test."""
    client = web_client(token=bot_token, api_url=api_url, policy=RetryPolicy())
    try:
        answer = await call("auth.test", client.auth_test)
    except (DeliveryError, DeliveryDeferred) as exc:
        raise PrivacyError(f"Slack: {exc}") from exc
    return SlackThreadCleaner(
        client=client, bot_id=str(answer.get("bot_id") or ""), user_id=str(answer["user_id"])
    )
