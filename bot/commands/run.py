"""``tandem run``: the service."""

from __future__ import annotations

import click

from bot.app import no_chat_settings, run_service
from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from bot.commands.sandbox import quietly
from bot.sandbox.console import run_console


@click.command(short_help="Start the service (the sandbox without chat tokens).")
@pass_cli
@explained
def run(cli: CliContext) -> None:
    """Start the service (Telegram, Slack, NLU, storage) until Ctrl-C.

    With no chat tokens set at all, start the offline sandbox instead; with some but not
    all, say which are missing."""
    if no_chat_settings(cli.settings):
        echo("No Telegram or Slack tokens are set: starting the offline sandbox.")
        echo("(Set them in .env to run the real service; see README.md.)")
        run_async(run_console(quietly(cli), out=echo))
        return
    run_async(run_service(cli.settings))
