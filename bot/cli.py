"""The ``tandem`` command line: one group, one module per sub-command group."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands import bench, config, db, nlu, policy, run, sandbox, stats
from bot.commands.common import CliContext


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


cli.add_command(run.run)
cli.add_command(config.config)
cli.add_command(db.db)
cli.add_command(nlu.nlu)
cli.add_command(policy.policy)
cli.add_command(bench.bench)
cli.add_command(sandbox.sandbox)
cli.add_command(sandbox.demo)
cli.add_command(stats.stats)


def main() -> None:
    cli(prog_name="tandem")
