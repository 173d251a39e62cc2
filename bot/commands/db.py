"""``tandem db``: the SQL database's schema."""

from __future__ import annotations

import click

from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from handoff.storage import Database


@click.group(short_help="Manage the database schema.")
def db() -> None:
    """Manage the database schema (the service also upgrades it on start)."""


@db.command()
@pass_cli
@explained
def upgrade(cli: CliContext) -> None:
    """Apply every pending migration."""

    async def go() -> str | None:
        cli.settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.from_url(cli.settings.database_url)
        try:
            await database.upgrade()
            return await database.current_revision()
        finally:
            await database.dispose()

    echo(f"database is at revision {run_async(go())}")
