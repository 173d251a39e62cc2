"""Agents' display names, from ``users.info``, remembered for a while.

Every reply and button press names its agent; asking Slack each time would spend the rate
limit of ``users.info`` (Tier 4) on the same few people. A lookup gets ``timeout`` seconds:
names are looked up before Slack's request is answered, which Slack wants within three.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handoff.errors import DeliveryDeferred, DeliveryError

from .delivery import call

logger = logging.getLogger(__name__)


class Directory:
    """Display names by user id: ``profile.display_name``, else the real name, else the
    user name. A lookup that fails or takes too long gives the user id (not remembered), so
    that a Slack hiccup never holds up an agent's reply."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        ttl: float = 3600.0,
        capacity: int = 1000,
        timeout: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._timeout = timeout
        self._capacity = capacity
        self._clock = clock
        self._names: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def display_name(self, user_id: str) -> str:
        remembered = self._names.get(user_id)
        if remembered is not None and self._clock() - remembered[0] < self._ttl:
            self._names.move_to_end(user_id)
            return remembered[1]
        try:
            async with asyncio.timeout(self._timeout):
                answer = await call(
                    f"the profile of {user_id}", lambda: self._client.users_info(user=user_id)
                )
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("showing %s by id: %s", user_id, exc)
            return user_id
        except TimeoutError:
            logger.warning(
                "showing %s by id: Slack took over %ss to name them", user_id, self._timeout
            )
            return user_id
        name = name_of(answer.get("user") or {}) or user_id
        self._names[user_id] = (self._clock(), name)
        self._names.move_to_end(user_id)
        while len(self._names) > self._capacity:
            self._names.popitem(last=False)
        return name

    async def display_names(self, user_ids: set[str]) -> dict[str, str]:
        """Looked up together, so that many mentions take no longer than one."""
        ordered = sorted(user_ids)
        names = await asyncio.gather(*(self.display_name(user_id) for user_id in ordered))
        return dict(zip(ordered, names, strict=True))


def name_of(user: Mapping[str, Any]) -> str:
    """The name Slack shows for ``user`` (a ``users.info`` user object)."""
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return ""
