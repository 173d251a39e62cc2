"""``tandem run``: the service."""

from __future__ import annotations

import sys

import click

from bot.app import missing_chat_settings, no_chat_settings, run_service
from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from bot.commands.sandbox import quietly
from bot.errors import MissingChatSettings
from bot.sandbox.console import run_console


@click.command(short_help="Start the service (the sandbox without chat tokens).")
@pass_cli
@explained
def run(cli: CliContext) -> None:
    """Start the service (Telegram, Slack, NLU, storage) until Ctrl-C or SIGTERM.

    With no chat tokens set at all, start the offline sandbox instead, if standard input is
    a terminal; without one (a service manager, a container) say which settings are
    missing and exit 2. With some but not all tokens, say which are missing."""
    if not no_chat_settings(cli.settings):
        run_async(run_service(cli.settings))
    elif sys.stdin.isatty():
        echo("No Telegram or Slack tokens are set: starting the offline sandbox.")
        echo("(Set them in .env to run the real service; see README.md.)")
        run_async(run_console(quietly(cli), out=echo))
    else:
        # A deployment that lacks its secrets must not look like a clean exit.
        raise MissingChatSettings(
            [
                "no Telegram or Slack credentials are set; the service needs:",
                *missing_chat_settings(cli.settings),
                "without them `tandem run` starts the offline sandbox, but only on a terminal "
                "(standard input is not one); `tandem sandbox` starts it anyway",
            ]
        )
