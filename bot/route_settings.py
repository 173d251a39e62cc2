"""``agents.routes`` in ``config/tandem.yml``: handoffs to team channels (see
:mod:`handoff.routing`), checked when the file is read."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from handoff.routing import Route, Routes


class RouteSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    """A route to a team's channel: handoffs matching any of its lists go there."""

    name: str = Field(min_length=1, max_length=80)
    channel: str = Field(pattern=r"^[CG][A-Z0-9]{2,}$")  # a channel ID, as Slack's events name it
    intents: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # Slack user IDs (U..., W...) or user-group IDs (S...) the card pings.
    ping: tuple[Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,}$")], ...] = ()

    def core(self) -> Route:
        try:
            return Route(
                name=self.name,
                channel=self.channel,
                intents=frozenset(self.intents),
                reasons=frozenset(self.reasons),
                languages=frozenset(code.lower() for code in self.languages),
                ping=self.ping,
            )
        except ValueError as exc:
            raise PydanticCustomError("route", "{message}", {"message": str(exc)}) from exc

    @model_validator(mode="after")
    def _route_builds(self) -> RouteSection:
        self.core()
        return self


def routing(routes: tuple[RouteSection, ...]) -> Routes:
    """The core's routes, in the order written."""
    try:
        return Routes(tuple(route.core() for route in routes))
    except ValueError as exc:
        raise PydanticCustomError("routes", "{message}", {"message": str(exc)}) from exc
