"""``tandem config``: check the configuration without starting anything."""

from __future__ import annotations

import click
from pydantic import SecretStr

from bot.commands.common import CliContext, echo, explained, pass_cli
from bot.settings import SECRET_NAMES


@click.group()
def config() -> None:
    """Check and show the configuration."""


@config.command()
@pass_cli
@explained
def check(cli: CliContext) -> None:
    """Validate config/tandem.yml and the environment; print what is in force."""
    settings = cli.settings
    echo(f"config file: {settings.config_path or '(none: built-in defaults)'}")
    echo(f"project root: {settings.root}")
    for name, value in settings.env:
        upper = name.upper()
        if upper in SECRET_NAMES or isinstance(value, SecretStr):
            shown = "set" if value is not None else "not set"
        else:
            shown = "not set" if value is None else str(value)
        echo(f"{upper}: {shown}")
    echo(f"database: {'DATABASE_URL' if settings.env.database_url else settings.database_url}")
    echo(f"live state: {'Redis (REDIS_URL)' if settings.redis_url else 'in-process'}")
    echo(f"NLU: {settings.env.rasa_url or 'managed Rasa server'}")
    echo("configuration OK")
