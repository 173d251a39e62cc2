"""What the listeners of Tandem's own buttons, pickers and shortcuts share: the channels
they are taken in (the agent channel and the routes'), the agents' names, and the count of
work in progress that stopping waits for; :class:`ClientListener`, the Web API client for
listeners that answer in Slack themselves (a modal opened, a post replaced)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handoff.model import Agent

from .directory import Directory
from .inflight import InFlight


def press_channel(body: Mapping[str, Any], channels: frozenset[str]) -> str:
    """The channel a press in ``body`` came from when it is one of ``channels`` (the agent
    channel and the routes'), else "" (which no press matches)."""
    where = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    return where if isinstance(where, str) and where in channels else ""


class ChannelListener:
    def __init__(
        self,
        *,
        channel: str,
        directory: Directory,
        inflight: InFlight,
        others: frozenset[str] = frozenset(),
    ) -> None:
        self._channels = frozenset({channel, *others})  # the agent channel and the routes
        self._directory = directory
        self._inflight = inflight

    async def _agent(self, user_id: str) -> Agent:
        return Agent(user_id=user_id, display_name=await self._directory.display_name(user_id))

    def _where(self, body: Mapping[str, Any]) -> str:
        """The channel of the press in ``body``: one of Tandem's, else ""."""
        return press_channel(body, self._channels)


class ClientListener(ChannelListener):
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        channel: str,
        directory: Directory,
        inflight: InFlight,
        others: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(channel=channel, directory=directory, inflight=inflight, others=others)
        self._client = client
