"""How a Bot API method's outcome is answered, besides a plain ``{"ok": true, "result": ...}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import JsonDict


class ApiError(Exception):
    """Answered as ``{"ok": false, ...}`` with Telegram's status and description."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True, slots=True)
class Described:
    """A successful result that Telegram also describes, e.g. "Webhook was set"."""

    result: Any
    description: str
