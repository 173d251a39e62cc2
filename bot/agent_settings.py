"""The ``agents.sla`` and ``agents.hours`` settings: a module of their own so that
:mod:`bot.settings` only names them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from handoff.hours import BusinessHours, HoursError, parse_hours
from handoff.sla import SlaSettings

PositiveSeconds = Annotated[float, Field(gt=0)]
_CORE = SlaSettings()  # the defaults live in the core, once
_PING_TARGET = re.compile(r"[SUW][A-Z0-9]{2,}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")


class SlaSection(BaseModel):
    """The SLA ladder of handoffs (:mod:`handoff.sla`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reping_after: PositiveSeconds = _CORE.reping_after
    escalate_after: PositiveSeconds = _CORE.escalate_after
    claimed_idle_after: PositiveSeconds = _CORE.claimed_idle_after
    # Who a re-ping or escalation mentions: a Slack user group id (S...) or user ids (U...).
    ping: tuple[str, ...] = ()
    escalation_channel: str | None = None
    # Seconds between two looks at the clocks.
    check_interval: PositiveSeconds = 15.0

    @field_validator("ping")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for target in value:
            if not _PING_TARGET.fullmatch(target):
                raise ValueError(
                    f"{target!r} is not a Slack user group id (S0123456789) or user id "
                    "(U0123456789): mentions need ids, not names"
                )
        return value

    @field_validator("escalation_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.fullmatch(value):
            raise ValueError(f"expected a channel ID such as C0123456789, not {value!r}")
        return value

    def core(self, *, wait_update_after: float) -> SlaSettings:
        return SlaSettings(
            reping_after=self.reping_after,
            escalate_after=self.escalate_after,
            claimed_idle_after=self.claimed_idle_after,
            wait_update_after=wait_update_after,
        )


class HoursSection(BaseModel):
    """Business hours (:mod:`handoff.hours`); by default always open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = "UTC"
    # mon..sun -> spans such as "09:00-17:30"; a day left out is closed; null: always open.
    weekly: dict[str, tuple[str, ...]] | None = None
    closed_dates: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _schedule_is_valid(self) -> HoursSection:
        try:
            self.core()
        except HoursError as exc:
            raise PydanticCustomError("hours", "{message}", {"message": str(exc)}) from exc
        return self

    def describe(self) -> str:
        """The schedule in force, in one line (``tandem config check``)."""
        if self.weekly is None and not self.closed_dates:
            return "always open"
        days = "; ".join(f"{day} {', '.join(spans)}" for day, spans in (self.weekly or {}).items())
        closed = f"; closed on {len(self.closed_dates)} date(s)" if self.closed_dates else ""
        return f"{self.time_zone}: {days or 'every day'}{closed}"

    def core(self) -> BusinessHours:
        return parse_hours(
            time_zone=self.time_zone, weekly=self.weekly, closed_dates=self.closed_dates
        )
