"""Injected failures: the next calls to a method answer an error before they are looked at."""

from __future__ import annotations

from collections import defaultdict, deque
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


class FaultPlan:
    """The errors planned for each method, by its name in any case (PTB's are camelCase)."""

    def __init__(self) -> None:
        self._planned: defaultdict[str, deque[_Fault]] = defaultdict(deque)

    def schedule(
        self, method: str, *, status: int, retry_after: int, times: int, description: str | None
    ) -> None:
        """429 carries ``parameters.retry_after`` as Telegram does; 403 defaults to "bot was
        blocked by the user"; any other status gets Telegram's usual description."""
        if status == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
            fault = _Fault(status, text, {"retry_after": retry_after} if retry_after else None)
        else:
            text = description or _STATUS_DESCRIPTIONS.get(status, f"Error {status}")
            fault = _Fault(status, text, None)
        self._planned[method.lower()].extend([fault] * times)

    def take(self, method: str) -> ApiError | None:
        """The error for this call to ``method``, used up by taking it."""
        planned = self._planned.get(method.lower())
        if not planned:
            return None
        fault = planned.popleft()
        return ApiError(fault.status, fault.description, fault.parameters)
