"""The repository's requests for a person: the handoff, its first audit entry and the
conversation's new mode, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy import text as sql

from handoff.errors import ConversationClosed, ConversationNotFound
from handoff.model import Mode
from handoff.records import Handoff, HandoffEventKind
from handoff.storage import dml, mapping
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json
from handoff.storage.tables import OPEN_HANDOFF, ConversationRow, HandoffEventRow, HandoffRow

_HANDOFFS = cast(Table, HandoffRow.__table__)


class RequestQueries(RepositoryBase):
    async def request_handoff(
        self,
        *,
        conversation_id: int,
        reason: str,
        reason_detail: Mapping[str, Any],
        card: Mapping[str, Any],
        at: datetime | None = None,
    ) -> tuple[Handoff, bool]:
        """Hand the conversation to people: a new handoff (with its "requested" audit entry),
        or the one in progress if an earlier try opened it; the conversation waits for a
        person with its failed-turn count cleared. Returns the handoff and whether it is
        new. Raises :class:`ConversationClosed` for a closed conversation."""
        requested_at = self._at(at, "requested_at")
        async with self._database.statements(doing="requesting a person") as connection:
            waiting = await connection.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.mode != Mode.CLOSED.value,
                )
                .values(mode=Mode.WAITING.value, failed_turns=0, last_answered_intent=None)
            )
            if waiting.rowcount != 1:
                raise ConversationClosed(f"conversation {conversation_id} is closed or missing")
            statement = (
                dml.insert(self._database.backend, HandoffRow)
                .values(
                    conversation_id=conversation_id,
                    reason=reason,
                    reason_detail=clean_json(reason_detail),
                    card=clean_json(card),
                    introduced={},
                    requested_at=requested_at,
                )
                .on_conflict_do_nothing(
                    index_elements=[HandoffRow.conversation_id], index_where=sql(OPEN_HANDOFF)
                )
                .returning(_HANDOFFS)
            )
            missing = ConversationNotFound(f"no conversation {conversation_id}")
            row = await self._insert_unless_conflict(connection, statement, missing_parent=missing)
            if row is None:  # an earlier try opened it
                earlier = (
                    await connection.execute(
                        select(_HANDOFFS).where(
                            _HANDOFFS.c.conversation_id == conversation_id,
                            _HANDOFFS.c.outcome.is_(None),
                        )
                    )
                ).one()
                return mapping.handoff(earlier), False
            await connection.execute(
                insert(HandoffEventRow).values(
                    handoff_id=row.id,
                    kind=HandoffEventKind.REQUESTED.value,
                    detail={"reason": reason},
                    at=requested_at,
                )
            )
            return mapping.handoff(row), True
