"""``tandem sandbox`` and ``tandem demo``: the service offline, against the simulators."""

from __future__ import annotations

import click

from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from bot.logging import configure_logging
from bot.sandbox.console import run_console
from bot.sandbox.demo import run_demo
from bot.settings import Settings, personal_data_mask


@click.command(short_help="Chat as customer and agent, offline, in the terminal.")
@pass_cli
@explained
def sandbox(cli: CliContext) -> None:
    """The whole service (managed Rasa included) against simulated Telegram and Slack: chat
    as the customer and answer as the agents, in this terminal. No tokens needed.

    :quit, Ctrl-C or SIGTERM stop it cleanly (exit 0). Without a terminal it reads the same
    lines from standard input, one command each, and stops at the end of it."""
    run_async(run_console(quietly(cli), out=echo))


@click.command(short_help="A scripted conversation through both simulators.")
@pass_cli
@explained
def demo(cli: CliContext) -> None:
    """Run a scripted conversation through the real adapters and the simulators (greeting,
    routine answer, two failed turns, handoff card, claim, relay both ways, return to bot,
    a second handoff closed with a rating); print both sides' transcripts. Exits 1 if any
    step does not happen."""
    if not run_async(run_demo(quietly(cli), out=echo)):
        fail(["the demo failed: a step did not happen (see above)"])


def quietly(cli: CliContext) -> Settings:
    """The sandbox talks to you in the terminal: only warnings and errors are logged there
    (everything with --debug)."""
    settings = cli.settings
    if not cli.debug:
        configure_logging(
            "WARNING",
            secrets=settings.secret_values(),
            personal_data=personal_data_mask(settings),
            log_format=settings.config.log_format,
        )
    return settings
