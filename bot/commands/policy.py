"""``tandem policy``: check the escalation policy against labelled conversations."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.common import echo, explained
from handoff.policy.evaluation import SHIPPED_CONVERSATIONS, evaluate_file, format_report


@click.group(short_help="Evaluate the escalation policy.")
def policy() -> None:
    """Evaluate the escalation policy (when the bot hands a conversation to a person)."""


@policy.command("eval")
@click.argument(
    "file",
    required=False,
    type=click.Path(path_type=Path, dir_okay=False),
)
@explained
def eval_(file: Path | None) -> None:
    """Replay labelled conversations (default: the shipped set) through the policy; print
    precision/recall/F1 per handoff reason, action accuracy and every mismatch.

    Exits 0 whatever the scores: this measures, it does not gate. A file that cannot be
    read exits 1 with one line per problem.
    """
    # The policy's defaults. Once config/tandem.yml has a `policy:` section, build the
    # PolicyConfig from cli.settings here, so operators can measure their own settings.
    report = evaluate_file(file or SHIPPED_CONVERSATIONS)
    for line in format_report(report):
        echo(line)
