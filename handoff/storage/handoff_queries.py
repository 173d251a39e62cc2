"""The repository's handoffs: requests for a person, their agent threads and audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import (
    ConversationNotFound,
    HandoffAlreadyClaimed,
    HandoffAlreadyOpen,
    HandoffNotFound,
    HandoffNotOpen,
    StorageError,
    ThreadAlreadyLinked,
)
from handoff.records import Handoff, HandoffEvent, HandoffEventKind, HandoffOutcome
from handoff.storage import dml, mapping
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json, clean_optional, clean_text
from handoff.storage.tables import OPEN_HANDOFF, HandoffEventRow, HandoffRow
from handoff.storage.translate import Violation, violation


class HandoffQueries(RepositoryBase):
    """Handoffs and their audit trail."""

    async def create_handoff(
        self,
        *,
        conversation_id: int,
        reason: str,
        reason_detail: Mapping[str, Any] | None = None,
        card: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Handoff:
        """Request a person for the conversation.

        ``reason`` is a code; ``reason_detail`` the codes and numbers behind the decision;
        ``card`` what the agents' card shows besides the state.
        Raises :class:`HandoffAlreadyOpen` if the conversation already has one in progress.
        """
        requested_at = self._at(at, "requested_at")
        async with self._transaction("creating a handoff") as session:
            statement = (
                dml.insert(self._database.backend, HandoffRow)
                .values(
                    conversation_id=conversation_id,
                    reason=reason,
                    reason_detail=clean_json(reason_detail or {}),
                    card=None if card is None else clean_json(card),
                    introduced={},
                    requested_at=requested_at,
                )
                .on_conflict_do_nothing(
                    index_elements=[HandoffRow.conversation_id],
                    index_where=sql(OPEN_HANDOFF),
                )
                .returning(HandoffRow)
            )
            row = await self._insert_unless_conflict(
                session,
                statement,
                missing_parent=ConversationNotFound(f"no conversation {conversation_id}"),
            )
            if row is None:
                raise HandoffAlreadyOpen(
                    f"conversation {conversation_id} already has a handoff in progress"
                )
            return mapping.handoff(row)

    async def get_handoff(self, handoff_id: int) -> Handoff | None:
        async with self._transaction("reading a handoff") as session:
            row = await session.get(HandoffRow, handoff_id)
            return None if row is None else mapping.handoff(row)

    async def open_handoff_for(self, conversation_id: int) -> Handoff | None:
        """The conversation's handoff in progress (neither closed nor returned), if any."""
        async with self._transaction("reading the open handoff") as session:
            row = (
                await session.scalars(
                    select(HandoffRow).where(
                        HandoffRow.conversation_id == conversation_id,
                        HandoffRow.outcome.is_(None),
                    )
                )
            ).one_or_none()
            return None if row is None else mapping.handoff(row)

    async def latest_handoff_for(self, conversation_id: int) -> Handoff | None:
        """The conversation's most recent handoff, open or finished (for its rating)."""
        async with self._transaction("reading the latest handoff") as session:
            row = (
                await session.scalars(
                    select(HandoffRow)
                    .where(HandoffRow.conversation_id == conversation_id)
                    .order_by(HandoffRow.id.desc())
                    .limit(1)
                )
            ).one_or_none()
            return None if row is None else mapping.handoff(row)

    async def find_handoff_by_thread(self, *, agent_channel: str, thread_ts: str) -> Handoff | None:
        """The handoff whose agent thread this is (open or not), if any."""
        async with self._transaction("finding a handoff by thread") as session:
            row = (
                await session.scalars(
                    select(HandoffRow).where(
                        HandoffRow.agent_channel == agent_channel,
                        HandoffRow.agent_thread_ts == thread_ts,
                    )
                )
            ).one_or_none()
            return None if row is None else mapping.handoff(row)

    async def set_handoff_thread(
        self, handoff_id: int, *, agent_channel: str, thread_ts: str
    ) -> Handoff:
        """Link the handoff to the agents' thread that discusses it.

        Raises :class:`ThreadAlreadyLinked` if another handoff has that thread.
        """
        async with self._transaction("linking a handoff to its thread") as session:
            try:
                row = (
                    await session.scalars(
                        update(HandoffRow)
                        .where(HandoffRow.id == handoff_id)
                        .values(agent_channel=agent_channel, agent_thread_ts=thread_ts)
                        .returning(HandoffRow)
                    )
                ).one_or_none()
            except IntegrityError as exc:
                if violation(exc) is Violation.UNIQUE:
                    raise ThreadAlreadyLinked(
                        f"thread {agent_channel}/{thread_ts} belongs to another handoff"
                    ) from exc
                raise
            if row is None:
                raise HandoffNotFound(f"no handoff {handoff_id}")
            return mapping.handoff(row)

    async def claim_handoff(
        self, handoff_id: int, *, agent_id: str, agent_name: str, at: datetime | None = None
    ) -> Handoff:
        """Give an unclaimed, open handoff to an agent.

        Of two agents claiming at once, one wins; the other gets
        :class:`HandoffAlreadyClaimed` naming the winner.
        """
        claimed_at = self._at(at, "claimed_at")
        async with self._transaction("claiming a handoff") as session:
            row = (
                await session.scalars(
                    update(HandoffRow)
                    .where(
                        HandoffRow.id == handoff_id,
                        HandoffRow.outcome.is_(None),
                        HandoffRow.agent_id.is_(None),
                    )
                    .values(
                        agent_id=agent_id, agent_name=clean_text(agent_name), claimed_at=claimed_at
                    )
                    .returning(HandoffRow)
                )
            ).one_or_none()
            if row is not None:
                return mapping.handoff(row)
            current = await self._existing_open_handoff(session, handoff_id)
            raise HandoffAlreadyClaimed(
                f"handoff {handoff_id} is already claimed by {current.agent_name}",
                agent_id=current.agent_id,
                agent_name=current.agent_name,
            )

    async def transfer_handoff(
        self, handoff_id: int, *, agent_id: str, agent_name: str, at: datetime | None = None
    ) -> Handoff:
        """Give an open handoff to another agent (``claimed_at`` keeps the first claim)."""
        claimed_at = self._at(at, "claimed_at")
        async with self._transaction("transferring a handoff") as session:
            row = (
                await session.scalars(
                    update(HandoffRow)
                    .where(HandoffRow.id == handoff_id, HandoffRow.outcome.is_(None))
                    .values(
                        agent_id=agent_id,
                        agent_name=clean_text(agent_name),
                        claimed_at=func.coalesce(HandoffRow.claimed_at, claimed_at),
                    )
                    .returning(HandoffRow)
                )
            ).one_or_none()
            if row is None:
                raise await self._why_handoff_unchanged(session, handoff_id)
            return mapping.handoff(row)

    async def release_handoff(self, handoff_id: int) -> Handoff:
        """Put an open handoff back in the queue, unclaimed."""
        async with self._transaction("releasing a handoff") as session:
            row = (
                await session.scalars(
                    update(HandoffRow)
                    .where(HandoffRow.id == handoff_id, HandoffRow.outcome.is_(None))
                    .values(agent_id=None, agent_name=None, claimed_at=None)
                    .returning(HandoffRow)
                )
            ).one_or_none()
            if row is None:
                raise await self._why_handoff_unchanged(session, handoff_id)
            return mapping.handoff(row)

    async def finish_handoff(
        self, handoff_id: int, *, outcome: HandoffOutcome, at: datetime | None = None
    ) -> Handoff:
        """End an open handoff: closed by the agent, or returned to the bot.

        Raises :class:`HandoffNotOpen` if it has already ended.
        """
        finished_at = self._at(at, "at")
        values: dict[str, Any] = {"outcome": outcome.value}
        if outcome is HandoffOutcome.CLOSED:
            values["closed_at"] = finished_at
        else:
            values["returned_at"] = finished_at
        async with self._transaction("finishing a handoff") as session:
            row = (
                await session.scalars(
                    update(HandoffRow)
                    .where(HandoffRow.id == handoff_id, HandoffRow.outcome.is_(None))
                    .values(values)
                    .returning(HandoffRow)
                )
            ).one_or_none()
            if row is None:
                raise await self._why_handoff_unchanged(session, handoff_id)
            return mapping.handoff(row)

    async def add_handoff_event(
        self,
        handoff_id: int,
        *,
        kind: HandoffEventKind,
        actor_id: str | None = None,
        actor_name: str | None = None,
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> HandoffEvent:
        """Append to the handoff's audit trail."""
        event_at = self._at(at, "at")
        async with self._transaction("recording a handoff event") as session:
            row = HandoffEventRow(
                handoff_id=handoff_id,
                kind=kind.value,
                actor_id=actor_id,
                actor_name=clean_optional(actor_name),
                detail=None if detail is None else clean_json(detail),
                at=event_at,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                if violation(exc) is Violation.FOREIGN_KEY:
                    raise HandoffNotFound(f"no handoff {handoff_id}") from exc
                raise
            return mapping.handoff_event(row)

    async def handoff_events(self, handoff_id: int) -> list[HandoffEvent]:
        """The handoff's audit trail in time order (ties in the order recorded)."""
        async with self._transaction("reading handoff events") as session:
            rows = await session.scalars(
                select(HandoffEventRow)
                .where(HandoffEventRow.handoff_id == handoff_id)
                .order_by(HandoffEventRow.at, HandoffEventRow.id)
            )
            return [mapping.handoff_event(row) for row in rows]

    async def _existing_open_handoff(self, session: AsyncSession, handoff_id: int) -> Handoff:
        row = await session.get(HandoffRow, handoff_id)
        if row is None:
            raise HandoffNotFound(f"no handoff {handoff_id}")
        if row.outcome is not None:
            raise HandoffNotOpen(f"handoff {handoff_id} is already {row.outcome}")
        return mapping.handoff(row)

    async def _why_handoff_unchanged(self, session: AsyncSession, handoff_id: int) -> StorageError:
        # Only called after a conditional UPDATE on an open handoff matched nothing.
        await self._existing_open_handoff(session, handoff_id)
        return StorageError(f"handoff {handoff_id} changed concurrently; try again")
