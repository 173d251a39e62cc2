"""``tandem config``: check the configuration without starting anything."""

from __future__ import annotations

import click
from pydantic import SecretStr

from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from bot.errors import ConfigError
from bot.settings import SECRET_NAMES, Settings


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
    echo(f"business hours: {settings.config.agents.hours.describe()}")
    _routes(settings)
    echo("configuration OK")


def _routes(settings: Settings) -> None:
    """The routes in force; with SLACK_BOT_TOKEN, each channel checked for the app's reach."""
    routes = settings.config.agents.routes
    for route in routes:
        echo(f"route {route.name}: {route.channel}")
    env = settings.env
    if env.slack_bot_token is None:
        if routes:
            echo("routes: channels not checked (SLACK_BOT_TOKEN is not set)")
        return
    # Imported here: the Slack SDK, which the rest of the check does not need.
    from bot.adapters.slack.reach import unreachable_channels  # noqa: PLC0415

    named = {route.channel: f"route {route.name}" for route in reversed(routes)}
    if env.slack_agent_channel:
        named.setdefault(env.slack_agent_channel, "SLACK_AGENT_CHANNEL")
    if escalations := settings.config.agents.sla.escalation_channel:
        named.setdefault(escalations, "agents.sla.escalation_channel")
    problems = run_async(
        unreachable_channels(
            token=env.slack_bot_token.get_secret_value(),
            api_url=str(env.slack_api_url),
            channels=named,
        )
    )
    if problems:
        raise ConfigError(
            [f"{named[channel]}: channel {channel}: {why}" for channel, why in problems.items()]
        )
