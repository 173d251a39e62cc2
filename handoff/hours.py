"""Business hours, pure: when people are at the desk (``agents.hours``: a time zone, a weekly
schedule and dates when closed; by default always open).

Out of hours a handoff still opens a card (marked so), the customer is told when people are
back, and the SLA clocks pause: :meth:`BusinessHours.open_seconds` counts only the seconds
inside the schedule.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handoff.errors import HandoffError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 400  # how far ahead "when people are back" is looked for
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")

Span = tuple[time, time | None]  # None as the end: midnight at the end of the day


class HoursError(HandoffError, ValueError):
    """``agents.hours`` is invalid; the message says where and what is expected."""


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """``weekly`` maps a weekday (0 = Monday) to its open spans; None: open all week."""

    zone: tzinfo = UTC
    weekly: Mapping[int, tuple[Span, ...]] | None = None
    closed: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return self.weekly is None and not self.closed

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        return any(start <= at < end for start, end in self._spans(at, at))

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` if open then, else when people are next back; None if never, as far as
        :data:`HORIZON_DAYS` ahead."""
        if self.is_open(at):
            return at
        for start, _ in self._spans(at, at + timedelta(days=HORIZON_DAYS)):
            if start >= at:
                return start
        return None

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """The seconds between ``start`` and ``end`` that fall in business hours."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        return sum(
            max(0.0, (min(end, close) - max(start, opens)).total_seconds())
            for opens, close in self._spans(start, end)
        )

    def _spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans, as instants, of every local day from ``start``'s to ``end``'s."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            if day not in self.closed:
                for opens, closes in self._day(day.weekday()):
                    yield self._instant(day, opens), self._instant(day, closes)
            day += timedelta(days=1)

    def _day(self, weekday: int) -> tuple[Span, ...]:
        if self.weekly is None:
            return ((time(0), None),)
        return self.weekly.get(weekday, ())

    def _instant(self, day: date, moment: time | None) -> datetime:
        if moment is None:  # the end of the day: the next day's midnight
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        return datetime.combine(day, moment, tzinfo=self.zone)


ALWAYS_OPEN = BusinessHours()


def parse_hours(
    *,
    time_zone: str,
    weekly: Mapping[str, Sequence[str]] | None,
    closed_dates: Sequence[str | date],
) -> BusinessHours:
    """Business hours from the settings' words; :class:`HoursError` names what is wrong.

    ``weekly`` maps ``mon``..``sun`` to spans such as ``"09:00-17:30"`` (``24:00`` ends at
    midnight); a day left out is closed all day. ``closed_dates`` are ``YYYY-MM-DD``.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(
            f"time_zone: unknown time zone {time_zone!r}; use an IANA name such as "
            "Europe/Berlin or America/New_York"
        ) from None
    schedule = None if weekly is None else _weekly(weekly)
    if schedule is not None and not any(schedule.values()):
        raise HoursError("weekly: no open hours at all; leave weekly out to be always open")
    return BusinessHours(zone=zone, weekly=schedule, closed=_dates(closed_dates))


def closed_note(hours: BusinessHours, now: datetime) -> dict[str, str | None] | None:
    """What a handoff opened at ``now`` keeps on its card when the desk is closed: when
    people are back (None if the schedule never opens again); None when open."""
    back = hours.next_open(now)
    if back == now:
        return None
    return {"back_at": None if back is None else back.isoformat()}


def spoken_time(at: datetime, hours: BusinessHours) -> str:
    """``at`` as the customer is told it: in the desk's time zone, named."""
    return f"{at.astimezone(hours.zone):%A %d %B, %H:%M} ({hours.zone})"


def _weekly(weekly: Mapping[str, Sequence[str]]) -> dict[int, tuple[Span, ...]]:
    schedule: dict[int, tuple[Span, ...]] = {}
    for name, spans in weekly.items():
        if name not in DAYS:
            raise HoursError(f"weekly: unknown day {name!r}; use {', '.join(DAYS)}")
        parsed = sorted((_span(name, text) for text in spans), key=lambda s: s[0])
        for (_, earlier_end), (later_start, _) in itertools.pairwise(parsed):
            if earlier_end is None or later_start < earlier_end:
                raise HoursError(f"weekly.{name}: the spans overlap")
        schedule[DAYS.index(name)] = tuple(parsed)
    return schedule


def _span(day: str, text: str) -> Span:
    match = _RANGE.fullmatch(str(text).strip())
    if match is None:
        raise HoursError(f"weekly.{day}: {text!r} is not a span such as 09:00-17:30")
    start = _clock(day, int(match[1]), int(match[2]))
    end = _clock(day, int(match[3]), int(match[4]))
    if start is None or (end is not None and end <= start):
        raise HoursError(f"weekly.{day}: {text!r} must end after it starts, on the same day")
    return start, end


def _clock(day: str, hours: int, minutes: int) -> time | None:
    if (hours, minutes) == (24, 0):
        return None
    if hours > 23 or minutes > 59:
        raise HoursError(f"weekly.{day}: {hours:02}:{minutes:02} is not a time of day")
    return time(hours, minutes)


def _dates(texts: Sequence[str | date]) -> frozenset[date]:
    dates = set()
    for text in texts:
        if isinstance(text, date):
            dates.add(text)
            continue
        try:
            dates.add(date.fromisoformat(str(text)))
        except ValueError:
            raise HoursError(f"closed_dates: {text!r} is not a date such as 2026-12-25") from None
    return frozenset(dates)
