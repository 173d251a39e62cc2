"""The ``tandem`` command line: one group, one module per sub-command group.

A sub-command's module is imported only when that command runs: between them they import
every SDK (PTB, Bolt, SQLAlchemy, Alembic, ...), which made ``tandem --help`` take over a
second. So the line each command shows in ``tandem --help`` is kept here as well;
tests/bot/test_cli.py checks it against the command's own."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from bot.commands.common import CliContext

# Each command: the module under bot.commands that defines it (under the same name), and
# its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("bench", "Benchmarks: public data sets, the service under load (not tests)."),
    "config": ("config", "Check and show the configuration."),
    "db": ("db", "Manage the database schema."),
    "demo": ("sandbox", "A scripted conversation through both simulators."),
    "nlu": ("nlu", "Set up Rasa; validate, train, test, parse."),
    "policy": ("policy", "Evaluate the escalation policy."),
    "privacy": ("privacy", "A customer's data: export, erase; the retention period."),
    "report": ("report", "An HTML report with charts: handoffs, waits, CSAT, SLA."),
    "run": ("run", "Start the service (the sandbox without chat tokens)."),
    "sandbox": ("sandbox", "Chat as customer and agent, offline, in the terminal."),
    "stats": ("stats", "Support metrics: escalation, response times, CSAT."),
}


class LazyGroup(click.Group):
    """Lists :data:`COMMANDS` without importing them; imports the one that runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"bot.commands.{module}"), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="TANDEM_CONFIG",
    help="The operator settings file (default: config/tandem.yml).",
)
@click.option("--debug", is_flag=True, help="Log everything, and show tracebacks.")
@click.version_option(package_name="tandem")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, debug: bool) -> None:
    """Tandem: a Rasa bot for Telegram customers, with hand-off to human agents in Slack."""
    ctx.obj = CliContext(config=config, debug=debug)


def main() -> None:
    cli(prog_name="tandem")
