"""Names of the Redis keys the live state uses, all under one prefix."""

from __future__ import annotations

from dataclasses import dataclass

from handoff.model import ConversationKey


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisKeyBuilder:
    """Builds keys such as ``tandem:conv:telegram:123`` and ``tandem:lock:telegram:123``.

    The prefix lets several deployments (or test runs) share one Redis database and lets
    an operator find or remove every key of one deployment with ``SCAN MATCH prefix:*``.
    """

    prefix: str = "tandem"

    def __post_init__(self) -> None:
        if not self.prefix:
            raise ValueError("the Redis key prefix must not be empty")

    def conversation(self, key: ConversationKey) -> str:
        return f"{self.prefix}:conv:{key.channel}:{key.chat_id}"

    def lock(self, key: ConversationKey) -> str:
        return f"{self.prefix}:lock:{key.channel}:{key.chat_id}"

    def once(self, token: str) -> str:
        return f"{self.prefix}:once:{token}"
