"""Confirming polled updates to Telegram only once the handler has them (optional).

PTB confirms the updates of one getUpdates answer with its next getUpdates call, which it
makes at once, before they are handled: a crash in between loses them. When the handler
returns as soon as an event is durably recorded, holding that next call until every
update of the answer was handed over closes the window at little cost; a crash then makes
Telegram send them again, and the handler recognises the ones it had recorded.

With a handler that does all its work before returning, this would make every chat wait
for the slowest update of each answer; hence ``patience``: past it, the updates are
confirmed anyway, and the log names them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


class Handovers:
    """The updates of the last getUpdates answer that the handler has not returned from."""

    def __init__(self, *, patience: float) -> None:
        self._patience = patience
        self._open: set[int] = set()
        self._settled = asyncio.Event()
        self._settled.set()

    def fetched(self, update_ids: Iterable[int]) -> None:
        self._open.update(update_ids)
        if self._open:
            self._settled.clear()

    def handed_over(self, update_id: int) -> None:
        self._open.discard(update_id)
        if not self._open:
            self._settled.set()

    async def settled(self) -> None:
        """Returns once every fetched update was handed over, or ``patience`` ran out."""
        try:
            await asyncio.wait_for(self._settled.wait(), self._patience)
        except TimeoutError:
            logger.warning(
                "confirming Telegram updates %s before the handler returned (waited %.1f s)",
                sorted(self._open),
                self._patience,
            )
            self._open.clear()
            self._settled.set()
