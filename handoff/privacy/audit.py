"""The privacy audit trail: who saw, exported or erased personal data, and when. Kept apart
from the handoffs' own trail so that it outlives an erasure (it holds no content)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class PrivacyEventKind(StrEnum):
    REVEALED = "revealed"  # an agent saw masked values of a handoff
    EXPORTED = "exported"  # everything about a customer was written out
    ERASED = "erased"  # everything about a customer was removed
    FORGET_REQUESTED = "forget_requested"  # the customer asked to be forgotten
    EXPIRED = "expired"  # texts older than the retention period were removed


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyEvent:
    """One entry: never a message's text, only which messages."""

    kind: PrivacyEventKind
    at: datetime
    actor_id: str | None = None  # an agent's user id; None: an operator's command, or Tandem
    actor_name: str | None = None
    customer_id: int | None = None
    handoff_id: int | None = None
    message_ids: tuple[int, ...] = ()
    count: int | None = None  # how many rows an export, erasure or expiry touched


class PrivacyLog(Protocol):
    """Where privacy events are kept (the SQL store implements it)."""

    async def record(self, event: PrivacyEvent) -> None: ...

    async def events(self, *, customer_id: int | None = None) -> list[PrivacyEvent]: ...
