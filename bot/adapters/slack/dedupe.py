"""Slack redelivers an event it thinks was not acknowledged (``X-Slack-Retry-Num`` over
HTTP, ``retry_attempt`` in Socket Mode) with the same ``event_id``. A redelivery of an event
this process already took is acknowledged without running the listeners again.

The memory is small and per process: the handoff relay also drops agents' messages it has
seen (by ``ts``) across workers. This layer spares it the work and the log noise.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

logger = logging.getLogger(__name__)


class RecentIds:
    """The last ``capacity`` ids seen; Slack's redeliveries come within minutes."""

    def __init__(self, *, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, value: str) -> bool:
        """Remember ``value``; whether it was new."""
        if value in self._ids:
            self._ids.move_to_end(value)
            return False
        self._ids[value] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


class SkipRedeliveries(AsyncMiddleware):
    """Bolt middleware; registered after Bolt's own, so only signed requests are remembered
    (a forged request cannot make Tandem ignore a real event)."""

    def __init__(self, *, seen: RecentIds) -> None:
        self._seen = seen

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not self._seen.first_time(event_id):
            retry = req.headers.get("x-slack-retry-num", ["?"])[0]
            logger.info("Slack redelivered event %s (retry %s); already taken", event_id, retry)
            return BoltResponse(status=200, body="")
        return await next()
