"""The repository's agents' events: finding a thread's handoff, and one event stored whole.

Plain statements on a connection, like the customer's turns (:mod:`.turn_queries`): an
agent's reply is a read of the handoff and an insert or two; an ORM session around them
cost more CPU than the statements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.agent_records import AgentChange, AppliedAgentEvent, HandoffChange
from handoff.errors import ConversationNotFound, HandoffNotFound, StorageError
from handoff.model import ConversationKey, Mode
from handoff.records import (
    UNSET,
    Handoff,
    HandoffOutcome,
    NewMessage,
)
from handoff.storage import mapping
from handoff.storage.message_queries import insert_new, message_values
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json, clean_optional, clean_text
from handoff.storage.tables import PENDING_DELIVERY, ConversationRow, HandoffEventRow, HandoffRow
from handoff.storage.tables import MessageRow as _Message

_HANDOFFS = cast(Table, HandoffRow.__table__)
_MESSAGES = cast(Table, _Message.__table__)
_CONVERSATIONS = cast(Table, ConversationRow.__table__)


class _Repeat(Exception):
    """A message of the event was stored before: the transaction is rolled back."""


class AgentQueries(RepositoryBase):
    async def locate_thread(
        self, *, agent_channel: str, thread_ts: str
    ) -> tuple[Handoff, ConversationKey] | None:
        """The handoff of an agents' thread (open or not) and its conversation's chat."""
        async with self._database.statements(doing="finding a handoff by thread") as connection:
            row = (
                await connection.execute(
                    select(_HANDOFFS, _CONVERSATIONS.c.channel, _CONVERSATIONS.c.chat_id)
                    .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _HANDOFFS.c.conversation_id)
                    .where(
                        _HANDOFFS.c.agent_channel == agent_channel,
                        _HANDOFFS.c.agent_thread_ts == thread_ts,
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        return mapping.handoff(row), ConversationKey(channel=row.channel, chat_id=row.chat_id)

    async def apply_agent_event(
        self, handoff_id: int, plan: Callable[[Handoff], AgentChange]
    ) -> AppliedAgentEvent:
        """Read the handoff, store what ``plan`` makes of it, read what is pending: one
        transaction. A repeated message rolls it back (``repeat``, nothing applied); an
        owner change that another worker's overtook is left out with its audit entries
        (``lost``), the rest is applied."""
        before: Handoff | None = None
        try:
            async with self._database.statements(doing="storing an agent's event") as connection:
                row = (
                    await connection.execute(
                        select(_HANDOFFS).where(_HANDOFFS.c.id == handoff_id).with_for_update()
                    )
                ).one_or_none()
                if row is None:
                    raise HandoffNotFound(f"no handoff {handoff_id}")
                before = mapping.handoff(row)
                change = plan(before)
                return await self._apply(connection, before, change)
        except _Repeat:
            assert before is not None
            return AppliedAgentEvent(before, before, repeat=True, lost=None, pending=())

    async def _apply(
        self, connection: AsyncConnection, before: Handoff, change: AgentChange
    ) -> AppliedAgentEvent:
        reply_id: int | None = None
        if change.reply is not None:
            reply_id = await self._insert(connection, change.reply)
            if reply_id is None:
                raise _Repeat
        for message in change.told:
            await connection.execute(insert(_Message).values(**message_values(message)))
        after, lost = before, None
        if change.handoff is not None:
            after, lost = await self._change_handoff(connection, before, change.handoff, reply_id)
        if change.audit and lost is None:
            await connection.execute(
                insert(HandoffEventRow),
                [
                    {
                        "handoff_id": before.id,
                        "kind": entry.kind.value,
                        "actor_id": entry.actor_id,
                        "actor_name": clean_optional(entry.actor_name),
                        "detail": None if entry.detail is None else clean_json(entry.detail),
                        "at": entry.at,
                    }
                    for entry in change.audit
                ],
            )
        if change.leave is not None:
            await self._leave(connection, before.conversation_id, change.leave)
        rows = await connection.execute(
            select(_MESSAGES)
            .where(_MESSAGES.c.conversation_id == before.conversation_id)
            .where(sql(PENDING_DELIVERY))  # literal: PostgreSQL then uses the partial index
            .order_by(_MESSAGES.c.id)
        )
        pending = tuple(mapping.message(row) for row in rows)
        return AppliedAgentEvent(before, after, repeat=False, lost=lost, pending=pending)

    async def _insert(self, connection: AsyncConnection, message: NewMessage) -> int | None:
        """Store the agent's message; None if it was stored before."""
        statement = insert_new(self._database.backend, message).returning(_MESSAGES.c.id)
        missing = ConversationNotFound(f"no conversation {message.conversation_id}")
        row = await self._insert_unless_conflict(connection, statement, missing_parent=missing)
        return None if row is None else int(row.id)

    async def _change_handoff(
        self,
        connection: AsyncConnection,
        before: Handoff,
        change: HandoffChange,
        reply_id: int | None,
    ) -> tuple[Handoff, str | None]:
        values: dict[str, Any] = {}
        where = [_HANDOFFS.c.id == before.id, _HANDOFFS.c.outcome.is_(None)]
        if change.owner is not UNSET:
            where.append(
                _HANDOFFS.c.agent_id.is_(None)
                if change.owner_was is None
                else _HANDOFFS.c.agent_id == change.owner_was
            )
            values.update(_owner_values(change))
        if change.outcome is not None:
            values["outcome"] = change.outcome.value
            ended = "closed_at" if change.outcome is HandoffOutcome.CLOSED else "returned_at"
            values[ended] = self._at(change.at, "at")
        introduced = _introduced(before, change, reply_id)
        if introduced is not None:
            values["introduced"] = introduced
        if not values:
            return before, None
        row = (
            await connection.execute(
                update(_HANDOFFS).where(*where).values(values).returning(_HANDOFFS)
            )
        ).one_or_none()
        if row is not None:
            return mapping.handoff(row), None
        if change.owner is UNSET:
            raise StorageError(f"handoff {before.id} changed concurrently; try again")
        # Another worker changed the owner first: the reply still goes out, introduced.
        current = (
            await connection.execute(
                update(_HANDOFFS)
                .where(_HANDOFFS.c.id == before.id)
                .values(introduced=introduced if introduced is not None else _HANDOFFS.c.introduced)
                .returning(_HANDOFFS)
            )
        ).one()
        return mapping.handoff(current), _why_lost(before.id, current)

    async def _leave(self, connection: AsyncConnection, conversation_id: int, mode: Mode) -> None:
        values: dict[str, Any] = {"mode": mode.value}
        if mode is Mode.CLOSED:
            values["closed_at"] = self._now()
        else:  # back to the bot with a clean slate: the failed-turn count starts again
            values.update(failed_turns=0, last_answered_intent=None)
        await connection.execute(
            update(_CONVERSATIONS)
            .where(
                _CONVERSATIONS.c.id == conversation_id,
                _CONVERSATIONS.c.mode != Mode.CLOSED.value,
            )
            .values(values)
        )


def _owner_values(change: HandoffChange) -> dict[str, Any]:
    if change.owner is None or change.owner is UNSET:
        return {"agent_id": None, "agent_name": None, "claimed_at": None}
    agent_id, agent_name = change.owner
    claimed_at: Any = change.at
    if change.keep_claimed_at:
        claimed_at = func.coalesce(_HANDOFFS.c.claimed_at, change.at)
    return {"agent_id": agent_id, "agent_name": clean_text(agent_name), "claimed_at": claimed_at}


def _introduced(
    before: Handoff, change: HandoffChange, reply_id: int | None
) -> dict[str, int] | None:
    if change.introduce is None or reply_id is None or change.introduce in before.introduced:
        return None
    return {**before.introduced, change.introduce: reply_id}


def _why_lost(handoff_id: int, current: Any) -> str:
    if current.outcome is not None:
        return f"handoff {handoff_id} is already {current.outcome}"
    if current.agent_id is not None:
        return f"handoff {handoff_id} is already claimed by {current.agent_name}"
    return f"handoff {handoff_id} changed concurrently; try again"
