"""``tandem report`` from a seeded database: the known history of test_metrics, its figures
worked out by hand, the page rendered with every chart, and the command end to end."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from bot.report.figures import SlaTargets, report_figures
from bot.report.page import CHARTS, render_page
from handoff.storage import Database
from handoff.storage.report_queries import report_facts
from tests.bot.test_cli import tandem
from tests.storage import test_metrics
from tests.storage.test_metrics import SINCE, UNTIL, History

TARGETS = SlaTargets(reping_after=120, escalate_after=600)
PNG = b"\x89PNG\r\n\x1a\n"
# The history of test_metrics, written through the repository or into a project's SQLite.
history = test_metrics.history
project = test_metrics.project


async def test_the_figures_of_a_known_history(migrated: Database, history: History) -> None:
    facts = await report_facts(migrated, since=SINCE, until=UNTIL)
    figures = report_figures(facts, TARGETS, now=UNTIL)

    assert (figures.conversations, figures.handed_off, figures.handoffs) == (8, 6, 7)
    first, *rest = figures.days
    assert len(figures.days) == 8  # noon to noon: eight calendar days, partly
    assert (first.bot_only, first.handed_off) == (2, 6)
    assert first.deflection == 0.25
    assert all(d.bot_only + d.handed_off == 0 for d in rest)
    assert figures.reasons == (
        ("person_requested", 4),
        ("failed_turns", 1),
        ("frustrated", 1),
        ("human_only_topic", 1),
    )
    assert figures.time_to_claim.seconds == (20.0,)
    assert (figures.first_response.p50, figures.first_response.p90) == (120.0, 460.8)
    assert (figures.resolution.p50, figures.resolution.p90) == (2400.0, 3600.0)
    bot, person = figures.csat_by_path
    assert (bot.ratings, bot.mean) == (0, None)
    assert (person.ratings, person.satisfied) == (3, 2 / 3)
    by_reason = {g.label: g.mean for g in figures.csat_by_reason}
    assert by_reason == {
        "person_requested": 5.0,  # only c3's rating: c6 and c8 were not rated
        "failed_turns": 2.0,  # c5's first handoff gave the reason
        "frustrated": 4.0,
        "human_only_topic": None,
    }
    # Unclaimed past 120 s: all but c8 (claimed after 20 s); past 600 s: not c6 either
    # (returned to the bot after 300 s). c7 still waits at the end of the period.
    assert (first.past_reping, first.past_escalation) == (6, 5)


async def test_the_page_holds_every_chart_and_the_numbers(
    migrated: Database, history: History
) -> None:
    facts = await report_facts(migrated, since=SINCE, until=UNTIL)
    page = render_page(report_figures(facts, TARGETS, now=UNTIL), generated=UNTIL)

    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(CHARTS)
    assert all(base64.b64decode(image).startswith(PNG) for image in images)
    assert "<th>Handled by the bot alone (deflection)</th><td>2 (25%)</td>" in page
    assert "<th>First response, p90</th><td>7.7 min</td>" in page
    # Self-contained: nothing to run, nothing fetched.
    assert "<script" not in page
    assert "http" not in page


def test_report_writes_the_file_it_names(project: Path) -> None:
    url = f"sqlite:///{project / 'var' / 'tandem.db'}"
    out = project / "out" / "report.html"
    ran = tandem(project, "report", "--since", "30d", "--out", str(out), DATABASE_URL=url)

    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"{out}: 8 conversations, 7 handoffs")
    assert out.read_text(encoding="utf-8").count("data:image/png;base64,") == len(CHARTS)


def test_report_with_a_bad_since_is_one_line(project: Path) -> None:
    ran = tandem(project, "report", "--since", "yesterday")
    assert ran.code == 2
    assert ran.err_lines == [
        "tandem: --since yesterday: expected a number of days (7d), of hours (24h) "
        "or a date (YYYY-MM-DD)"
    ]
