"""The report as one self-contained HTML file: the numbers in a table, the charts inline
(PNG as data: URIs), no script and nothing fetched from elsewhere."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from html import escape

from bot.report import charts
from bot.report.figures import ReportFigures, Spread

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; } td, th { padding: .25rem .75rem; text-align: left; }
tr:nth-child(even) { background: #f3f3f3; } img { max-width: 100%; }
"""

CHARTS: tuple[tuple[str, Callable[[ReportFigures], bytes]], ...] = (
    ("Handoffs and deflection per day", charts.handoffs_per_day),
    ("Escalation reasons", charts.escalation_reasons),
    ("Time to claim, first response and resolution", charts.distributions),
    ("CSAT", charts.csat),
    ("SLA breaches", charts.sla_breaches),
)


def render_page(figures: ReportFigures, *, generated: datetime) -> str:
    period = f"{_when(figures.since)} to {_when(figures.until)} (UTC)"
    sections = [
        f'<h2>{escape(title)}</h2>\n<img alt="{escape(title)}" src="{_data_uri(draw(figures))}">'
        for title, draw in CHARTS
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Tandem report: {escape(period)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            "<h1>Tandem report</h1>",
            f"<p>Conversations opened {escape(period)}; generated {escape(_when(generated))}.</p>",
            _numbers(figures),
            *sections,
            "</body></html>",
        ]
    )


def _numbers(figures: ReportFigures) -> str:
    conversations, handed = figures.conversations, figures.handed_off
    bot, person = figures.csat_by_path
    breaches = sum(d.past_escalation for d in figures.days)
    rows = [
        ("Conversations", str(conversations)),
        ("Handled by the bot alone (deflection)", _share(conversations - handed, conversations)),
        ("Handed to a person", _share(handed, conversations)),
        ("Handoffs", str(figures.handoffs)),
        *_spread_rows("Time to claim", figures.time_to_claim),
        *_spread_rows("First response", figures.first_response),
        *_spread_rows("Resolution", figures.resolution),
        ("CSAT, the bot alone", _mean(bot.mean, bot.ratings)),
        ("CSAT, handed off", _mean(person.mean, person.ratings)),
        (
            f"Unclaimed past escalation ({figures.targets.escalate_after:.0f} s)",
            _share(breaches, figures.handoffs),
        ),
    ]
    body = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>\n{body}\n</table>"


def _spread_rows(name: str, spread: Spread) -> list[tuple[str, str]]:
    return [
        (f"{name}, p50", _duration(spread.p50)),
        (f"{name}, p90", _duration(spread.p90)),
    ]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _share(part: int, whole: int) -> str:
    return f"{part}" if whole == 0 else f"{part} ({part / whole:.0%})"


def _mean(mean: float | None, ratings: int) -> str:
    return "-" if mean is None else f"{mean:.2f} of 5 ({ratings} ratings)"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
