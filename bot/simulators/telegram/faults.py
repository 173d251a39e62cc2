"""Injected failures: the next calls to a method answer an error before they are looked at,
and flood control answers 429 to every call in a window, as Telegram does."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from .answers import ApiError
from .records import JsonDict

_STATUS_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    description: str
    parameters: JsonDict | None


def too_many_requests(retry_after: int, description: str | None = None) -> ApiError:
    """Telegram's 429: ``parameters.retry_after`` says how many seconds to wait."""
    text = description or f"Too Many Requests: retry after {retry_after}"
    return ApiError(429, text, {"retry_after": retry_after} if retry_after else None)


class FaultPlan:
    """The errors planned for each method, by its name in any case (PTB's are camelCase).

    ``clock`` is :func:`time.monotonic` or a test's own; it times flood windows.
    """

    def __init__(self, *, clock: Callable[[], float]) -> None:
        # None in a method's queue lets one call through (``after``).
        self._planned: defaultdict[str, deque[_Fault | None]] = defaultdict(deque)
        self._floods: dict[tuple[str, int | None], float] = {}  # (method, chat) -> until
        self._armed: dict[tuple[str, int | None], float] = {}  # opened by the next call: seconds
        self._clock = clock

    def schedule(
        self,
        method: str,
        *,
        status: int,
        retry_after: int,
        times: int,
        description: str | None,
        after: int = 0,
    ) -> None:
        """429 carries ``parameters.retry_after`` as Telegram does; 403 defaults to "bot was
        blocked by the user"; any other status gets Telegram's usual description. The
        errors start once ``after`` more calls went through."""
        if status == 429:
            error = too_many_requests(retry_after, description)
            fault = _Fault(status, error.description, error.parameters)
        else:
            text = description or _STATUS_DESCRIPTIONS.get(status, f"Error {status}")
            fault = _Fault(status, text, None)
        self._planned[method.lower()].extend([None] * after + [fault] * times)

    def flood(
        self, method: str, *, seconds: float, chat_id: int | None, from_next_call: bool = False
    ) -> None:
        """Every call to ``method`` (for ``chat_id``, or for any chat) answers 429 with the
        seconds left, rounded up, until ``seconds`` have passed: from now, or, with
        ``from_next_call``, from the next such call (which is asked to wait ``seconds``,
        however late it comes)."""
        key = (method.lower(), chat_id)
        if from_next_call:
            self._armed[key] = max(self._armed.get(key, 0.0), seconds)
        else:
            self._floods[key] = max(self._floods.get(key, 0.0), self._clock() + seconds)

    def take(self, method: str, params: JsonDict | None = None) -> ApiError | None:
        """The error for this call to ``method``, a planned one used up by taking it."""
        planned = self._planned.get(method.lower())
        if planned:
            fault = planned.popleft()
            if fault is not None:
                return ApiError(fault.status, fault.description, fault.parameters)
        return self._flooded(method.lower(), _chat_of(params))

    def _flooded(self, method: str, chat_id: int | None) -> ApiError | None:
        now = self._clock()
        keys = [(method, None)] if chat_id is None else [(method, None), (method, chat_id)]
        for key in keys:
            if (seconds := self._armed.pop(key, None)) is not None:
                self._floods[key] = max(self._floods.get(key, 0.0), now + seconds)
        until = max(self._floods.get(key, 0.0) for key in keys)
        if until <= now:
            return None
        # To the millisecond: in floats, now + 61 - now can be a hair over 61 (asking 62).
        return too_many_requests(max(1, math.ceil(round(until - now, 3))))


def _chat_of(params: JsonDict | None) -> int | None:
    chat_id = (params or {}).get("chat_id")
    return chat_id if isinstance(chat_id, int) else None
