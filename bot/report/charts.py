"""The report's charts, drawn with matplotlib into PNG bytes.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot): no global
state, no display backend, nothing left open after a chart is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.report.figures import CsatGroup, ReportFigures, Spread

BOT_COLOUR = "#4c9f70"
PERSON_COLOUR = "#d1495b"
NEUTRAL_COLOUR = "#30638e"
REPING_COLOUR = "#edae49"
ESCALATION_COLOUR = "#d1495b"
_SIZE = (8.0, 3.6)
_DPI = 96


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _empty(axes: Axes, what: str) -> None:
    axes.text(0.5, 0.5, f"no {what} in this period", ha="center", va="center")
    axes.set_axis_off()


def _day_axis(axes: Axes, figures: ReportFigures) -> list[int]:
    """The days' positions, labelled with their dates. Positions, not the date strings
    themselves: matplotlib takes "12-06" for a date and logs a warning per chart."""
    positions = list(range(len(figures.days)))
    axes.set_xticks(positions, [d.day.strftime("%m-%d") for d in figures.days])
    return positions


def handoffs_per_day(figures: ReportFigures) -> bytes:
    """Conversations per day, the bot's alone and handed off, with the deflection rate."""
    figure = Figure(figsize=_SIZE)
    axes = figure.add_subplot()
    labels = _day_axis(axes, figures)
    bot = [d.bot_only for d in figures.days]
    person = [d.handed_off for d in figures.days]
    axes.bar(labels, bot, color=BOT_COLOUR, label="the bot alone")
    axes.bar(labels, person, bottom=bot, color=PERSON_COLOUR, label="handed off")
    axes.set_ylabel("conversations")
    rates = axes.twinx()
    deflection = [d.deflection * 100 if d.deflection is not None else None for d in figures.days]
    rates.plot(
        labels,
        [float("nan") if v is None else v for v in deflection],
        color=NEUTRAL_COLOUR,
        marker="o",
        label="deflection %",
    )
    rates.set_ylim(0, 100)
    rates.set_ylabel("deflection %")
    axes.legend(loc="upper left", fontsize="small")
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.set_title("Conversations per day")
    return _png(figure)


def escalation_reasons(figures: ReportFigures) -> bytes:
    figure = Figure(figsize=_SIZE)
    axes = figure.add_subplot()
    if not figures.reasons:
        _empty(axes, "handoffs")
        return _png(figure)
    names = [reason for reason, _ in reversed(figures.reasons)]
    counts = [count for _, count in reversed(figures.reasons)]
    axes.barh(names, counts, color=PERSON_COLOUR)
    axes.set_xlabel("handoffs")
    axes.set_title("Why conversations went to a person")
    return _png(figure)


def distributions(figures: ReportFigures) -> bytes:
    """Time to claim, first response and resolution, in minutes, with p50 and p90 marked."""
    figure = Figure(figsize=(8.0, 7.5))
    spreads = (
        ("Time to claim", figures.time_to_claim),
        ("First response", figures.first_response),
        ("Resolution", figures.resolution),
    )
    for row, (title, spread) in enumerate(spreads, start=1):
        _distribution(figure.add_subplot(3, 1, row), title, spread)
    return _png(figure)


def _distribution(axes: Axes, title: str, spread: Spread) -> None:
    if not spread.seconds:
        _empty(axes, title.lower())
        return
    minutes = [s / 60 for s in spread.seconds]
    axes.hist(minutes, bins=min(20, max(5, len(minutes))), color=NEUTRAL_COLOUR, alpha=0.8)
    for value, name, style in ((spread.p50, "p50", "-"), (spread.p90, "p90", "--")):
        if value is not None:
            axes.axvline(
                value / 60, color="black", linestyle=style, label=f"{name} {value / 60:.1f} min"
            )
    axes.set_title(title)
    axes.set_xlabel("minutes")
    axes.set_ylabel("handoffs")
    axes.legend(fontsize="small")


def csat(figures: ReportFigures) -> bytes:
    """Mean rating: the bot alone against handed off, and by the handoff's reason."""
    figure = Figure(figsize=_SIZE)
    groups: Sequence[CsatGroup] = (*figures.csat_by_path, *figures.csat_by_reason)
    rated = [g for g in groups if g.mean is not None]
    axes = figure.add_subplot()
    if not rated:
        _empty(axes, "ratings")
        return _png(figure)
    colours = [
        BOT_COLOUR
        if g is figures.csat_by_path[0]
        else PERSON_COLOUR
        if g in figures.csat_by_path
        else NEUTRAL_COLOUR
        for g in rated
    ]
    bars = axes.bar([g.label for g in rated], [g.mean or 0 for g in rated], color=colours)
    axes.bar_label(bars, labels=[f"n={g.ratings}" for g in rated], fontsize="small")
    axes.set_ylim(0, 5.5)
    axes.set_ylabel("mean rating (1-5)")
    axes.tick_params(axis="x", labelrotation=30, labelsize="small")
    axes.set_title("CSAT: the bot alone, handed off, and by reason")
    return _png(figure)


def sla_breaches(figures: ReportFigures) -> bytes:
    figure = Figure(figsize=_SIZE)
    axes = figure.add_subplot()
    labels = _day_axis(axes, figures)
    reping = [d.past_reping - d.past_escalation for d in figures.days]
    escalated = [d.past_escalation for d in figures.days]
    targets = figures.targets
    axes.bar(
        labels,
        escalated,
        color=ESCALATION_COLOUR,
        label=f"unclaimed past {targets.escalate_after:.0f} s (escalation)",
    )
    axes.bar(
        labels,
        reping,
        bottom=escalated,
        color=REPING_COLOUR,
        label=f"unclaimed past {targets.reping_after:.0f} s (re-ping)",
    )
    axes.set_ylabel("handoffs")
    axes.legend(loc="upper left", fontsize="small")
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.set_title("SLA breaches per day")
    return _png(figure)
