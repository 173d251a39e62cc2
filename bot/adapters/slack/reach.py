"""Whether the app can post in the channels it is configured for (``tandem config check``):
``conversations.info`` per channel, read for ``is_member``."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from handoff.errors import DeliveryError

from .delivery import RetryPolicy, call, error_code, web_client

CHECK = RetryPolicy(max_retries=1, backoff=0.2, jitter=0.0, timeout=10)


async def unreachable_channels(
    *, token: str, api_url: str, channels: Iterable[str]
) -> dict[str, str]:
    """Per channel the app cannot post to, why (in words an operator acts on)."""
    client = web_client(token=token, api_url=api_url, policy=CHECK)
    problems: dict[str, str] = {}
    for channel in dict.fromkeys(channels):
        try:
            answer = await call(
                f"conversations.info for {channel}",
                lambda channel=channel: client.conversations_info(channel=channel),  # type: ignore[misc]
            )
        except DeliveryError as exc:
            cause = exc.__cause__
            code = error_code(cause) if isinstance(cause, SlackApiError) else None
            problems[channel] = (
                "no such channel, or the app cannot see it (invite the app)"
                if code == "channel_not_found"
                else str(exc)
            )
            continue
        if not (answer.get("channel") or {}).get("is_member"):
            problems[channel] = "the app is not a member: /invite the app in that channel"
    return problems
