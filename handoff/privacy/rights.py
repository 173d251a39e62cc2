"""The customer's rights and the retention period: export everything Tandem holds about a
customer, erase it (with the agents' thread copies Tandem can reach), and remove message
texts older than the retention period. Each is an entry of the privacy audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from handoff.clock import utc_now
from handoff.model import Agent, ConversationKey, DeskThread
from handoff.privacy.audit import PrivacyEvent, PrivacyEventKind, PrivacyLog
from handoff.privacy.errors import PrivacyError
from handoff.privacy.export import delivery_legend
from handoff.records import Customer
from handoff.responses import Responses
from handoff.state.base import LiveState

logger = logging.getLogger(__name__)


class UnknownCustomer(PrivacyError):
    """No customer matches the reference given."""


@dataclass(frozen=True, slots=True)
class Erased:
    """How many rows an erasure removed."""

    conversations: int
    messages: int
    handoffs: int


@dataclass(frozen=True, slots=True)
class Expired:
    """What the retention period removed: message texts, handoff cards' copies of them."""

    messages: int
    handoffs: int


class CustomerRecords(Protocol):
    """What the store answers about one customer (the SQL store implements it)."""

    async def find_customer(self, reference: str) -> Customer | None:
        """By Tandem's id (``42``) or by chat (``telegram:123456``)."""
        ...

    async def customer_export(self, customer_id: int) -> dict[str, Any]: ...

    async def customer_threads(self, customer_id: int) -> list[DeskThread]: ...

    async def customer_chats(self, customer_id: int) -> list[ConversationKey]: ...

    async def customer_files(self, customer_id: int) -> list[str]:
        """The agents' tool's ids of the files (photos, documents) relayed for them."""
        ...

    async def erase_customer(self, customer_id: int) -> Erased: ...

    async def expire_texts(self, *, before: datetime) -> Expired: ...


class ThreadCleaner(Protocol):
    """Removes what Tandem posted in agents' threads (the Slack adapter implements it)."""

    async def delete_thread(self, thread: DeskThread) -> int:
        """Delete Tandem's posts in ``thread``, the card included; how many were deleted."""
        ...

    async def delete_file(self, file_id: str) -> None:
        """Delete a file Tandem uploaded (a customer's photo or document)."""
        ...


@dataclass(frozen=True, slots=True)
class ErasureReport:
    customer_id: int
    erased: Erased
    posts_deleted: int  # posts and files
    threads_failed: tuple[str, ...]  # threads and files (and why) that could not be deleted


class CustomerRights:
    """``state`` is the live state the service uses (its per-chat locks keep an erasure
    from racing a message being handled, and its entries go with the rows); None where it
    cannot be reached (the service's own memory, from a command)."""

    def __init__(
        self,
        *,
        records: CustomerRecords,
        log: PrivacyLog,
        cleaner: ThreadCleaner | None,
        state: LiveState | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._log = log
        self._cleaner = cleaner
        self._state = state
        self._clock = clock

    async def export(self, reference: str, *, words: Responses) -> dict[str, Any]:
        """Everything about the customer; each message says where it stands (``delivery``),
        and ``delivery_states`` explains each state in ``words``' (the catalogue's) terms."""
        customer = await self._customer(reference)
        exported = await self._records.customer_export(customer.id)
        exported["delivery_states"] = delivery_legend(words)
        exported["privacy_events"] = [
            _event_json(event) for event in await self._log.events(customer_id=customer.id)
        ]
        await self._note(PrivacyEventKind.EXPORTED, customer.id)
        return exported

    async def erase(self, reference: str, *, actor: Agent | None = None) -> ErasureReport:
        """Thread copies first (their ids are in the rows), then the rows and the live
        state, under the chats' locks; the audit entry says how many, never what."""
        customer = await self._customer(reference)
        posts, failed = 0, []
        if self._cleaner is not None:
            for file_id in await self._records.customer_files(customer.id):
                try:
                    await self._cleaner.delete_file(file_id)
                    posts += 1
                except PrivacyError as exc:
                    failed.append(f"file {file_id}: {exc}")
            for thread in await self._records.customer_threads(customer.id):
                try:
                    posts += await self._cleaner.delete_thread(thread)
                except PrivacyError as exc:
                    failed.append(f"{thread.channel}/{thread.thread_ts}: {exc}")
        chats = await self._records.customer_chats(customer.id)
        async with AsyncExitStack() as held:
            if self._state is not None:
                for chat in chats:
                    await held.enter_async_context(self._state.lock(chat))
            erased = await self._records.erase_customer(customer.id)
            if self._state is not None:
                for chat in chats:
                    await self._state.delete(chat)
        total = erased.conversations + erased.messages + erased.handoffs
        await self._note(PrivacyEventKind.ERASED, customer.id, count=total, actor=actor)
        return ErasureReport(
            customer_id=customer.id,
            erased=erased,
            posts_deleted=posts,
            threads_failed=tuple(failed),
        )

    async def audit(self, reference: str | None = None) -> list[PrivacyEvent]:
        """The privacy audit trail, or its entries about one customer (also once erased:
        a customer's id is accepted when nothing else is left of them)."""
        if reference is None:
            return await self._log.events()
        customer = await self._records.find_customer(reference)
        if customer is not None:
            return await self._log.events(customer_id=customer.id)
        if reference.strip().isdigit():
            return await self._log.events(customer_id=int(reference))
        raise UnknownCustomer(f"no customer {reference!r}: give Tandem's customer id (42)")

    async def expire(self, *, days: int) -> Expired:
        expired = await self._records.expire_texts(before=self._clock() - timedelta(days=days))
        if expired.messages or expired.handoffs:
            await self._note(PrivacyEventKind.EXPIRED, None, count=expired.messages)
            logger.info(
                "retention: texts of %d message(s) and %d card(s) older than %d days removed",
                expired.messages,
                expired.handoffs,
                days,
            )
        return expired

    async def _customer(self, reference: str) -> Customer:
        customer = await self._records.find_customer(reference)
        if customer is None:
            raise UnknownCustomer(
                f"no customer {reference!r}: give Tandem's customer id (42) or the chat "
                "(telegram:123456)"
            )
        return customer

    async def _note(
        self,
        kind: PrivacyEventKind,
        customer_id: int | None,
        *,
        count: int | None = None,
        actor: Agent | None = None,
    ) -> None:
        await self._log.record(
            PrivacyEvent(
                kind=kind,
                at=self._clock(),
                customer_id=customer_id,
                count=count,
                actor_id=actor.user_id if actor else None,
                actor_name=actor.display_name if actor else None,
            )
        )


def _event_json(event: PrivacyEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "handoff_id": event.handoff_id,
        "message_ids": list(event.message_ids),
        "count": event.count,
    }
