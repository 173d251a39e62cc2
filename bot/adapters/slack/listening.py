"""What the listeners of Tandem's own buttons, pickers and shortcuts share: the channels
they are taken in (the agent channel and the routes'), the agents' names, and the count of
work in progress that stopping waits for."""

from __future__ import annotations

from handoff.model import Agent

from .directory import Directory
from .inflight import InFlight


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
