"""Handing decoded updates to the :class:`~handoff.ports.InboundHandler`, in both modes.

What cannot be taken in is never dropped silently: an update that cannot be translated is
skipped and kept raw (:mod:`.quarantine`); one the handler failed on is logged once, with
its id, and kept too. Whether the handler's ``IntakeUnavailable`` is answered to Telegram
(webhook: 500, it comes again) or kept here (polling: Telegram counts it as received) is
the caller's choice.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from telegram import Update

from handoff.errors import IntakeUnavailable
from handoff.ports import InboundHandler

from .handover import Handovers
from .inbound import UnreadableUpdate, to_inbound
from .quarantine import Quarantine

logger = logging.getLogger(__name__)


class UpdateIntake:
    """``bot_username`` is read per update: PTB learns it at start (getMe)."""

    def __init__(
        self,
        *,
        handler: InboundHandler,
        quarantine: Quarantine,
        handovers: Handovers | None,
        bot_username: Callable[[], str | None],
        token: str,
    ) -> None:
        self._handler = handler
        self._quarantine = quarantine
        self._handovers = handovers
        self._bot_username = bot_username
        self._token = token

    async def polled(self, update: Update) -> None:
        """A polled update; what the handler could not record is kept here."""
        try:
            await self.take_in(update, None)
        except IntakeUnavailable as exc:
            # Polling has confirmed it to Telegram (see the adapter): keep it here instead.
            await self._quarantine.skip(
                update.update_id,
                _raw(update),
                f"the handler could not record it ({exc})",
                level=logging.ERROR,
            )
        finally:
            if self._handovers is not None:
                self._handovers.handed_over(update.update_id)

    async def take_in(self, update: Update, raw: object) -> None:
        """Hands the customer's event in ``update`` to the handler; ``raw`` is its JSON when
        known (webhook), kept if the update cannot be translated."""
        try:
            inbound = to_inbound(update, bot_username=self._bot_username())
        except UnreadableUpdate as exc:
            await self._quarantine.skip(update.update_id, raw or _raw(update), str(exc))
            return
        if inbound is not None:
            await self._handler.handle(inbound)

    async def failed(self, update: Update, error: BaseException) -> None:
        """Handling ``update`` raised ``error`` unexpectedly: kept, logged with the stack."""
        why = self._redact(repr(error))
        kept = await self._quarantine.record(update.update_id, _raw(update), why)
        self.log_failure(f"update {update.update_id}", error, f" (the update: {kept})")

    def log_failure(self, where: str, error: BaseException | None, kept: str = "") -> None:
        stack = "".join(traceback.format_exception(error)) if error else "(no exception)"
        # The stack is logged as text, not exc_info, so the token can be taken out of it:
        # PTB and httpx put request URLs, which contain the token, into some messages.
        logger.error("handling %s failed%s:\n%s", where, kept, self._redact(stack))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")


def _raw(update: Update) -> object:
    """The update as JSON, as far as PTB can give it back."""
    try:
        return update.to_dict()
    # Broad on purpose: this runs because the update is odd, and must not fail in turn.
    except Exception:
        return {"update_id": update.update_id}
