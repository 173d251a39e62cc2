"""What several workers on PostgreSQL + Redis share, built from the settings: the pace of
Slack posts per channel (one schedule for all workers through Redis, or the process's own
without REDIS_URL)."""

from __future__ import annotations

from typing import TypedDict

from bot.adapters.slack.pacing import ChannelPacer, MemoryPacer, PacingPolicy, Unpaced
from bot.adapters.slack.shared_pacing import RedisPacer
from bot.settings import Settings


class SlackPacing(TypedDict):
    pacer: ChannelPacer
    wait_up_to: float


def slack_pacing(settings: Settings) -> SlackPacing:
    """The Slack adapter's pacer and how long a customer's message waits inline."""
    section = settings.config.slack.pacing
    if section is None:
        return SlackPacing(pacer=Unpaced(), wait_up_to=0.0)
    policy = PacingPolicy(
        per_second=section.per_second, burst=section.burst, wait_up_to=section.wait_up_to
    )
    if settings.redis_url is None:
        return SlackPacing(pacer=MemoryPacer(policy), wait_up_to=policy.wait_up_to)
    pacer = RedisPacer.from_url(
        settings.redis_url, policy=policy, key_prefix=settings.config.state.key_prefix
    )
    return SlackPacing(pacer=pacer, wait_up_to=policy.wait_up_to)
