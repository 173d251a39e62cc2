"""Tandem's own posts in Slack (cards, notes, offers under a card, approvers' pings, /forget
requests), each in its channel's next free slot (see :mod:`.pacing`).

Every post Tandem makes in a channel counts against Slack's limit of about one a second
there. A post that skipped the schedule would take a slot the schedule had given to
another post, whose 429 then holds off the whole channel; so all of Tandem's posts wait
for their turn here, and a 429 that still comes moves the channel's schedule.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Awaitable, Callable
from typing import TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryDeferred

from .blocks import SlackMessage
from .delivery import call
from .pacing import ChannelPacer, Unpaced

T = TypeVar("T")


class OwnPosts:
    """Posts of Tandem's own, paced per channel (customers' messages are paced by the
    desk, which may defer them instead of waiting)."""

    def __init__(self, *, client: AsyncWebClient, pacer: ChannelPacer | None = None) -> None:
        self._client = client
        self._pacer: ChannelPacer = pacer or Unpaced()
        self._turns = itertools.count()

    async def post(
        self, post: SlackMessage, *, channel: str, thread_ts: str | None = None, what: str
    ) -> str:
        """Post ``post`` when the channel's turn comes; its ts."""
        await self.take_turn(channel)
        return await self.send(post, channel=channel, thread_ts=thread_ts, what=what)

    async def send(
        self, post: SlackMessage, *, channel: str, thread_ts: str | None = None, what: str
    ) -> str:
        """Post ``post`` now (its turn taken already); its ts. Never unfurled: its text may
        quote a customer, and Slack would fetch the link and show its preview."""
        answer = await self.paced(
            channel,
            lambda: call(
                what,
                lambda: self._client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=post.text,
                    blocks=post.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                ),
            ),
        )
        return str(answer["ts"])

    async def take_turn(self, channel: str) -> None:
        """Wait for the channel's next free slot, however far it is."""
        holder = f"own:{next(self._turns)}"
        await asyncio.sleep(await self._pacer.acquire(channel, holder, wait_up_to=math.inf))

    async def paced(self, channel: str, post: Callable[[], Awaitable[T]]) -> T:
        """``post()``; a rate limit Slack still answered moves the channel's schedule."""
        try:
            return await post()
        except DeliveryDeferred as exc:
            await self._pacer.hold_off(channel, exc.retry_after)
            raise
