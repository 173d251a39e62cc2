"""``tandem stats``: how support is going, from the stored conversations and handoffs."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta

import click

from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from handoff.storage import Database, utc_now
from handoff.storage.metrics import RATINGS, Csat, SupportMetrics, support_metrics

_AGO = re.compile(r"(?P<count>\d+)(?P<unit>[dh])")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1)}
_SINCE_FORMS = "a number of days (7d), of hours (24h) or a date (YYYY-MM-DD)"


@click.command(short_help="Support metrics: escalation, response times, CSAT.")
@click.option(
    "--since",
    "since_text",
    default="7d",
    show_default=True,
    metavar="7d|24h|YYYY-MM-DD",
    help="Count the conversations opened since then (a date is midnight UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_cli
@explained
def stats(cli: CliContext, since_text: str, as_json: bool) -> None:
    """Escalation and deflection, the reasons for handoffs, first response time, time to
    resolution and CSAT, for the conversations opened since --since.

    Rates are over those conversations; times are medians and 90th percentiles over their
    handoffs.
    """
    until = utc_now()
    # Checked before the settings and the database, so a typo costs nothing and says so.
    try:
        since = parse_since(since_text, now=until)
    except click.BadParameter as exc:
        # click would print its usage block too; Tandem reports a mistake in one line.
        fail([f"--since {since_text}: {exc.message}"], code=exc.exit_code)

    async def collect() -> SupportMetrics:
        database = Database.from_url(cli.settings.database_url)
        try:
            await database.upgrade()
            return await support_metrics(database, since=since, until=until)
        finally:
            await database.dispose()

    metrics = run_async(collect())
    lines = [to_json(metrics)] if as_json else format_metrics(metrics)
    for line in lines:
        echo(line)


def parse_since(text: str, *, now: datetime) -> datetime:
    """The start of the window: ``Nd`` or ``Nh`` before ``now``, or a date's midnight UTC.

    Raises :class:`click.BadParameter` saying what is expected.
    """
    value = text.strip()
    ago = _AGO.fullmatch(value)
    if ago is not None:
        count = int(ago["count"])
        if count == 0:
            raise click.BadParameter(f"must be at least 1{ago['unit']}", param_hint="--since")
        return now - count * _UNITS[ago["unit"]]
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected {_SINCE_FORMS}", param_hint="--since") from None
    since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if since > now:
        raise click.BadParameter(f"{day.isoformat()} is in the future", param_hint="--since")
    return since


def to_json(metrics: SupportMetrics) -> str:
    """The figures as a JSON object: times in seconds, rates as fractions, UTC ISO dates."""
    return json.dumps(dataclasses.asdict(metrics), default=_json_value, indent=2)


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def format_metrics(metrics: SupportMetrics) -> list[str]:
    """The figures as a short table: a heading, then label, value and a remark per row."""
    heading = (
        f"Conversations opened {_when(metrics.since)} .. {_when(metrics.until)}"
        f" ({_span(metrics.until - metrics.since)})"
    )
    return [heading, "", *_table(_rows(metrics))]


Row = tuple[str, str, str]


def _rows(metrics: SupportMetrics) -> list[Row]:
    return [*_volume_rows(metrics), *_time_rows(metrics), *_csat_rows(metrics.csat)]


def _volume_rows(metrics: SupportMetrics) -> list[Row]:
    bot_only = metrics.conversations - metrics.handed_off
    return [
        ("conversations", str(metrics.conversations), ""),
        ("handed to a person", str(metrics.handed_off), _percent(metrics.escalation_rate)),
        ("handled by the bot", str(bot_only), _percent(metrics.deflection_rate)),
        ("handoffs", str(metrics.handoffs), ""),
        *((f"  {r.reason}", str(r.count), "") for r in metrics.reasons),
    ]


def _time_rows(metrics: SupportMetrics) -> list[Row]:
    first, resolution = metrics.first_response, metrics.resolution
    return [
        (
            "first response, median",
            format_duration(first.median_seconds),
            f"{first.answered} answered",
        ),
        ("first response, p90", format_duration(first.p90_seconds), ""),
        ("waiting for a first response", str(first.waiting), ""),
        ("ended without an agent reply", str(first.unanswered), ""),
        (
            "resolution, median",
            format_duration(resolution.median_seconds),
            f"{resolution.closed} closed",
        ),
        ("resolution, p90", format_duration(resolution.p90_seconds), ""),
        ("returned to the bot", str(metrics.returned_to_bot), ""),
    ]


def _csat_rows(csat: Csat) -> list[Row]:
    ratings = "1 rating" if csat.ratings == 1 else f"{csat.ratings} ratings"
    spread = "/".join(str(csat.distribution[score]) for score in RATINGS)
    return [
        ("CSAT", _mean(csat.mean), ratings),
        ("CSAT 4-5", _percent(csat.satisfied_rate), ""),
        ("CSAT 1/2/3/4/5", spread, ""),
    ]


def _table(rows: list[Row]) -> list[str]:
    label_width = max(len(label) for label, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    return [
        f"{label:<{label_width}}  {value:>{value_width}}  {remark}".rstrip()
        for label, value, remark in rows
    ]


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(span: timedelta) -> str:
    # "--since 7d" reads back as "7d" rather than "7d 00h"; a date gives hours as well.
    if span % timedelta(days=1) == timedelta(0):
        return f"{span.days}d"
    return format_duration(span.total_seconds())


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _mean(mean: float | None) -> str:
    return "-" if mean is None else f"{mean:.2f}"


def format_duration(seconds: float | None) -> str:
    """``42s``, ``4m 12s``, ``1h 05m``, ``2d 03h``: two units, rounded to the second."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
