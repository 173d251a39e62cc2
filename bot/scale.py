"""What several workers on PostgreSQL + Redis share, built from the settings: the pace of
Slack posts per channel and Telegram's flood limits (one schedule for all workers through
Redis, or the process's own without REDIS_URL)."""

from __future__ import annotations

from typing import TypedDict

from bot.adapters.slack.pacing import ChannelPacer, MemoryPacer, PacingPolicy, Unpaced
from bot.adapters.slack.shared_pacing import RedisPacer
from bot.adapters.telegram.limiter import SendLimiter, SendLimits
from bot.adapters.telegram.shared_limits import SharedSendLimiter
from bot.settings import Settings
from handoff.lease import Lease
from handoff.state import lease_from_url


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


def telegram_limiter(settings: Settings) -> SendLimiter:
    """Telegram's flood limits (``telegram.limits``), kept across workers with REDIS_URL."""
    section = settings.config.telegram.limits
    limits = SendLimits(
        per_chat_interval=section.per_chat_interval, overall_per_second=section.overall_per_second
    )
    if settings.redis_url is None:
        return SendLimiter(limits=limits)
    return SharedSendLimiter.from_url(
        settings.redis_url, limits=limits, key_prefix=settings.config.state.key_prefix
    )


def polling_lease(settings: Settings) -> Lease | None:
    """With REDIS_URL, the lease that lets one worker at a time poll Telegram (see
    :mod:`bot.adapters.telegram.polling_owner`); None for one process alone."""
    if settings.redis_url is None:
        return None
    return lease_from_url(settings.redis_url, key_prefix=settings.config.state.key_prefix)
