"""Business hours, pure: open or not, when people are back, and the seconds that count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.hours import (
    ALWAYS_OPEN,
    HoursError,
    closed_note,
    parse_hours,
    spoken_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Office hours in Berlin: weekdays 09:00-17:00 with lunch 12:00-13:00, Friday till 15:00.
WEEKDAY = ("09:00-12:00", "13:00-17:00")
OFFICE = parse_hours(
    time_zone="Europe/Berlin",
    weekly={"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": ["09:00-15:00"]},
    closed_dates=["2026-12-24", date(2026, 12, 25)],
)


def berlin(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def test_always_open_by_default() -> None:
    moment = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    assert ALWAYS_OPEN.is_open(moment)
    assert ALWAYS_OPEN.next_open(moment) == moment
    assert ALWAYS_OPEN.open_seconds(moment, moment + timedelta(hours=2)) == 7200.0
    assert closed_note(ALWAYS_OPEN, moment) is None


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (berlin(7, 9), True),  # Monday, opening minute
        (berlin(7, 8, 59), False),
        (berlin(7, 12, 30), False),  # lunch
        (berlin(7, 16, 59), True),
        (berlin(7, 17), False),  # the end is not open
        (berlin(11, 14, 59), True),  # Friday
        (berlin(11, 15), False),
        (berlin(12, 11), False),  # Saturday
        (berlin(24, 10), False),  # a closed date (Thursday)
    ],
)
def test_open_follows_the_schedule_in_its_time_zone(moment: datetime, is_open: bool) -> None:
    assert OFFICE.is_open(moment) is is_open
    assert OFFICE.is_open(moment.astimezone(UTC)) is is_open  # the same instant in UTC


def test_people_are_back_at_the_next_opening() -> None:
    assert OFFICE.next_open(berlin(7, 12, 30)) == berlin(7, 13)
    assert OFFICE.next_open(berlin(11, 16)) == berlin(14, 9)  # Friday evening -> Monday
    assert OFFICE.next_open(berlin(23, 18)) == berlin(28, 9)  # over 24th, 25th, weekend
    assert OFFICE.next_open(berlin(7, 10)) == berlin(7, 10)  # open now


def test_clocks_count_only_business_seconds() -> None:
    # Friday 14:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert OFFICE.open_seconds(berlin(11, 14), berlin(14, 10)) == 7200.0
    # Across lunch: 11:30-13:30 counts one hour.
    assert OFFICE.open_seconds(berlin(7, 11, 30), berlin(7, 13, 30)) == 3600.0
    assert OFFICE.open_seconds(berlin(12, 0), berlin(13, 23)) == 0.0  # the weekend
    assert OFFICE.open_seconds(berlin(7, 10), berlin(7, 9)) == 0.0


def test_a_day_in_summer_time_counts_from_the_local_clock() -> None:
    # Summer: Berlin is UTC+2; 09:00 local is 07:00 UTC.
    assert OFFICE.is_open(datetime(2026, 7, 6, 7, 0, tzinfo=UTC))
    assert not OFFICE.is_open(datetime(2026, 7, 6, 6, 59, tzinfo=UTC))


def test_out_of_hours_the_card_keeps_when_people_are_back() -> None:
    assert closed_note(OFFICE, berlin(11, 16)) == {"back_at": berlin(14, 9).isoformat()}
    assert closed_note(OFFICE, berlin(7, 10)) is None


def test_the_customer_hears_the_time_in_the_desks_zone() -> None:
    assert spoken_time(berlin(14, 9).astimezone(UTC), OFFICE) == (
        "Monday 14 December, 09:00 (Europe/Berlin)"
    )


def test_midnight_ends_a_day() -> None:
    late = parse_hours(time_zone="UTC", weekly={"sat": ["20:00-24:00"]}, closed_dates=[])
    assert late.is_open(datetime(2026, 12, 12, 23, 59, tzinfo=UTC))
    assert not late.is_open(datetime(2026, 12, 13, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("weekly", "zone", "dates", "message"),
    [
        (None, "Mars/Olympus", [], "unknown time zone 'Mars/Olympus'"),
        ({"monday": ["09:00-17:00"]}, "UTC", [], "unknown day 'monday'"),
        ({"mon": ["9-17"]}, "UTC", [], "'9-17' is not a span such as 09:00-17:30"),
        ({"mon": ["17:00-09:00"]}, "UTC", [], "must end after it starts"),
        ({"mon": ["09:00-25:00"]}, "UTC", [], "25:00 is not a time of day"),
        ({"mon": ["09:00-12:00", "11:00-13:00"]}, "UTC", [], "weekly.mon: the spans overlap"),
        ({"mon": []}, "UTC", [], "no open hours at all"),
        (None, "UTC", ["christmas"], "'christmas' is not a date such as 2026-12-25"),
    ],
)
def test_a_bad_schedule_is_refused_with_what_is_wrong(
    weekly: dict[str, list[str]] | None, zone: str, dates: list[str], message: str
) -> None:
    with pytest.raises(HoursError, match=message):
        parse_hours(time_zone=zone, weekly=weekly, closed_dates=dates)
