"""Updates decoded one at a time, so that one PTB cannot decode stalls nothing.

PTB decodes a whole getUpdates answer at once; one update it cannot decode (a ``date`` past
the year 9999, say) fails the batch, the Updater does not move its offset, fetches the
same batch again at once, and every chat stops while the log fills. Here the answer is
screened first, in the getUpdates transport: each update is decoded on its own, and one
that fails is quarantined and replaced by a bare ``{"update_id": ...}``, which PTB decodes
as an empty ``Update`` and confirms with the next call like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

from .handover import Handovers
from .quarantine import Quarantine
from .transport import AiohttpRequest

_REASON_LENGTH = 300  # an error quoting a huge field would flood the log line


class UndecodableUpdate(Exception):
    """An update PTB cannot decode; ``update_id`` is None when even that is missing."""

    def __init__(self, update_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.update_id = update_id
        self.reason = reason


def update_id_of(data: object) -> int | None:
    value = data.get("update_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode_update(data: object, bot: Bot | None) -> Update:
    """``data`` as PTB's ``Update``; raises :class:`UndecodableUpdate`."""
    update_id = update_id_of(data)
    if update_id is None:
        raise UndecodableUpdate(None, "not an update: no integer update_id")
    try:
        return Update.de_json(data, bot)  # type: ignore[arg-type]  # a dict, checked above
    # Broad on purpose: on odd input PTB raises ValueError, OverflowError, KeyError,
    # TypeError, ... and any of them means the same: this update cannot be decoded.
    except Exception as exc:
        reason = f"PTB cannot decode it: {type(exc).__name__}: {exc}"[:_REASON_LENGTH]
        raise UndecodableUpdate(update_id, reason) from exc


class UpdateScreen:
    """Replaces the updates of a getUpdates answer that PTB cannot decode; see the module."""

    def __init__(self, *, quarantine: Quarantine) -> None:
        self._quarantine = quarantine

    async def screen(self, payload: bytes) -> tuple[bytes, list[int]]:
        """``payload`` (a getUpdates answer) with undecodable updates made bare, and the ids
        of the updates it hands on."""
        try:
            # Decoded as PTB decodes it (BaseRequest.parse_json_payload).
            body = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            return payload, []  # PTB reports a broken answer itself, and polls again
        results = body.get("result") if isinstance(body, dict) else None
        if not isinstance(results, list):
            return payload, []
        screened = [await self._screened(item) for item in results]
        kept = [item for item in screened if item is not None]
        ids = [update_id for item in kept if (update_id := update_id_of(item)) is not None]
        if all(new is old for new, old in zip(screened, results, strict=True)):
            return payload, ids  # the common case: nothing re-encoded
        return json.dumps({**body, "result": kept}).encode(), ids

    async def _screened(self, item: object) -> object | None:
        try:
            decode_update(item, None)
        except UndecodableUpdate as exc:
            await self._quarantine.skip(exc.update_id, item, exc.reason)
            # Without an id there is no offset to move past; Telegram always sends one.
            return None if exc.update_id is None else {"update_id": exc.update_id}
        return item


class UpdatesRequest(AiohttpRequest):
    """The HTTP transport PTB uses for getUpdates only: successful answers are screened,
    and each one is reported to ``answered`` (for the health check). With ``handovers``,
    a call (which confirms the previous answer) first waits for them to settle."""

    __slots__ = ("_answered", "_handovers", "_screen")

    def __init__(
        self,
        *,
        screen: UpdateScreen,
        answered: Callable[[], None],
        handovers: Handovers | None = None,
    ) -> None:
        super().__init__(connection_pool_size=1)  # what PTB's builder gives getUpdates
        self._screen = screen
        self._answered = answered
        self._handovers = handovers

    async def do_request(  # noqa: PLR0917 - PTB's signature, positional and all
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # Any: PTB types these with its private ODVInput alias.
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._handovers is not None:
            await self._handovers.settled()
        status, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
            payload, update_ids = await self._screen.screen(payload)
            if self._handovers is not None:
                self._handovers.fetched(update_ids)
            self._answered()
        return status, payload
