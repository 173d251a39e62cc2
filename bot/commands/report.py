"""``tandem report``: what operators look at, as one HTML file with charts."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from bot.commands.stats import parse_since
from bot.report.figures import ReportFigures, SlaTargets, report_figures
from bot.report.page import render_page
from handoff.storage import Database, utc_now
from handoff.storage.report_queries import report_facts


@click.command(short_help="An HTML report with charts: handoffs, waits, CSAT, SLA.")
@click.option(
    "--since",
    "since_text",
    default="7d",
    show_default=True,
    metavar="7d|24h|YYYY-MM-DD",
    help="Report on the conversations opened since then (a date is midnight UTC).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it; default: <data_dir>/reports/tandem-report-<date>.html.",
)
@pass_cli
@explained
def report(cli: CliContext, since_text: str, out: Path | None) -> None:
    """Handoffs and deflection per day, escalation reasons, time to claim, first response
    and resolution (p50/p90), CSAT of the bot alone against handed off and by reason, and
    SLA breaches against agents.sla, for the conversations opened since --since."""
    until = utc_now()
    try:
        since = parse_since(since_text, now=until)
    except click.BadParameter as exc:
        fail([f"--since {since_text}: {exc.message}"], code=exc.exit_code)
    settings = cli.settings
    sla = settings.config.agents.sla
    targets = SlaTargets(reping_after=sla.reping_after, escalate_after=sla.escalate_after)

    async def collect() -> ReportFigures:
        database = Database.from_url(settings.database_url)
        try:
            await database.upgrade()
            facts = await report_facts(database, since=since, until=until)
        finally:
            await database.dispose()
        return report_figures(facts, targets, now=until)

    figures = run_async(collect())
    path = out or settings.data_dir / "reports" / f"tandem-report-{until:%Y%m%d-%H%M}.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_page(figures, generated=until), encoding="utf-8")
    except OSError as exc:
        fail([f"--out {path}: cannot write the report: {exc.strerror}"])
    echo(
        f"{path}: {figures.conversations} conversations, {figures.handoffs} handoffs, "
        f"{figures.since:%Y-%m-%d} to {figures.until:%Y-%m-%d}"
    )
