"""``tandem config``: check the configuration without starting anything."""

from __future__ import annotations

import click
from pydantic import SecretStr

from bot.commands.common import CliContext, echo, explained, pass_cli, run_async
from bot.errors import ConfigError
from bot.settings import SECRET_NAMES, Settings, policy_config
from handoff.responses import ResponsesError, load_responses


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
    _approvers(settings)
    echo("configuration OK")


def _approvers(settings: Settings) -> None:
    """Who sends drafts on human-only topics; with SLACK_BOT_TOKEN, each user group's
    members are asked of Slack."""
    approvers = settings.config.agents.approvers
    if not approvers:
        echo("approvers: none (human-only topics get no suggested reply)")
        return
    echo(f"approvers: {', '.join(approvers)}")
    human_only = policy_config(settings.config.policy).human_only_intents
    try:
        responses = load_responses(settings.path(settings.config.conversation.responses_file))
    except ResponsesError as exc:
        raise ConfigError(exc.lines) from None
    if not any(responses.templates(intent) for intent in human_only):
        echo(
            "approvers: no human-only topic has a reply in the replies file, so there is "
            f"nothing to approve (policy.human_only_intents: {', '.join(human_only)})"
        )
    token = settings.env.slack_bot_token
    if token is None:
        if any(a[0] in "S@" for a in approvers):
            echo("approvers: user groups not checked (SLACK_BOT_TOKEN is not set)")
        return
    from bot.adapters.slack.approvals import unresolved_approvers  # noqa: PLC0415 - as above

    problems = run_async(
        unresolved_approvers(
            token=token.get_secret_value(),
            api_url=str(settings.env.slack_api_url),
            approvers=approvers,
        )
    )
    if problems:
        raise ConfigError([f"agents.approvers: {group}: {why}" for group, why in problems.items()])


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
