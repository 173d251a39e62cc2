"""The SLA ladder in Slack (:class:`handoff.sla_watch.SlaAlerts`): re-pings in a handoff's
thread, escalations to their channel, and a nudge to a quiet owner.

The texts come from the agents' catalogue and are escaped; only the mentions in front of
them (which are Tandem's own, from ``agents.sla.ping``) and the thread's link are markup.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryError
from handoff.model import Agent, DeskThread

from .delivery import call
from .escape import escape_mrkdwn
from .sizing import clip

logger = logging.getLogger(__name__)

TEXT_LIMIT = 2_000  # of a catalogue line, before escaping


def mention(target: str) -> str:
    """A user group (``S...``) or a person (``U...``/``W...``) as a Slack mention."""
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"


class SlackLadder:
    """Pings ``ping`` (user group or user ids; nobody named: ``@here``) in the handoffs'
    threads, and posts escalations in ``escalation_channel`` when one is set."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        ping: tuple[str, ...] = (),
        escalation_channel: str | None = None,
    ) -> None:
        self._client = client
        self._mentions = " ".join(mention(target) for target in ping) or "<!here>"
        self._escalation_channel = escalation_channel

    async def reping(self, thread: DeskThread, text: str) -> None:
        await self._post(thread.channel, f"{self._mentions} {_inert(text)}", thread=thread)

    async def escalate(self, thread: DeskThread, text: str, note: str) -> None:
        if self._escalation_channel is not None:
            link = await self._link(thread)
            await self._post(self._escalation_channel, f"{self._mentions} {_inert(text)}{link}")
        await self._post(thread.channel, f"{self._mentions} {_inert(note)}", thread=thread)

    async def ping_owner(self, thread: DeskThread, owner: Agent, text: str) -> None:
        await self._post(thread.channel, f"{mention(owner.user_id)} {_inert(text)}", thread=thread)

    async def _link(self, thread: DeskThread) -> str:
        """`` <link|thread>`` to the handoff's thread; nothing if Slack will not say."""
        try:
            answer = await call(
                f"the link of thread {thread.thread_ts}",
                lambda: self._client.chat_getPermalink(
                    channel=thread.channel, message_ts=thread.thread_ts
                ),
            )
        except DeliveryError as exc:
            logger.warning("escalating without a link to %s: %s", thread.thread_ts, exc)
            return ""
        return f" <{answer['permalink']}|Open the thread>"

    async def _post(self, channel: str, text: str, *, thread: DeskThread | None = None) -> None:
        await call(
            f"an SLA post in {channel}",
            lambda: self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread.thread_ts if thread else None,
                text=text,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )


def _inert(text: str) -> str:
    return escape_mrkdwn(clip(text, TEXT_LIMIT))
