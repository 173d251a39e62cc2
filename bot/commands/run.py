"""``tandem run``: the service."""

from __future__ import annotations

import click

from bot.app import run_service
from bot.commands.common import CliContext, explained, pass_cli, run_async


@click.command(short_help="Start the service until Ctrl-C.")
@pass_cli
@explained
def run(cli: CliContext) -> None:
    """Start the service (Telegram, Slack, NLU, storage) until Ctrl-C."""
    run_async(run_service(cli.settings))
