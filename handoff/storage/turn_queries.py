"""The repository's turns: what one answered customer message changed, at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.errors import ConversationClosed, MessageNotFound
from handoff.model import Mode
from handoff.records import RecordedTurn
from handoff.storage.message_queries import message_values
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json
from handoff.storage.tables import ConversationRow, MessageRow

# Plain statements on a connection, not the ORM unit of work: a turn is three writes by
# primary key, and an ORM session around them cost about a millisecond of CPU each.

_MESSAGES = MessageRow.__table__.c
# What message_values() fills: every column but the id.
_REPLY_COLUMNS = tuple(column.name for column in _MESSAGES if column.name != "id")

# On PostgreSQL the three writes are one statement (data-modifying CTEs), committed as it
# runs: one round trip instead of five (BEGIN, three statements, COMMIT). Each write
# happens only if the one before it did, so the turn is stored whole or not at all; the
# conversation's row is locked first, so a close that commits meanwhile wins cleanly.
_POSTGRES_TURN = sql(
    f"""
WITH open_conversation AS (
    SELECT id FROM conversations
    WHERE id = :conversation_id AND mode <> '{Mode.CLOSED.value}'
    FOR UPDATE
), analysed AS (
    UPDATE messages
    SET intent = :intent, confidence = :confidence, nlu = :nlu, decision = :decision
    WHERE id = :message_id AND EXISTS (SELECT 1 FROM open_conversation)
    RETURNING id
), counted AS (
    UPDATE conversations
    SET failed_turns = :failed_turns, last_answered_intent = :last_answered_intent
    WHERE id IN (SELECT id FROM open_conversation) AND EXISTS (SELECT 1 FROM analysed)
    RETURNING id
)
INSERT INTO messages ({", ".join(_REPLY_COLUMNS)})
SELECT {", ".join(f":reply_{column}" for column in _REPLY_COLUMNS)}
WHERE EXISTS (SELECT 1 FROM counted)
RETURNING id
"""  # noqa: S608 - put together once from the table's own column names; values are bound
).bindparams(
    bindparam("nlu", type_=_MESSAGES.nlu.type),
    bindparam("decision", type_=_MESSAGES.decision.type),
    bindparam("confidence", type_=_MESSAGES.confidence.type),
    bindparam("failed_turns", type_=ConversationRow.__table__.c.failed_turns.type),
    *(bindparam(f"reply_{column}", type_=_MESSAGES[column].type) for column in _REPLY_COLUMNS),
)


_RETURNED = (_MESSAGES.id,)  # the reply's id: the turn was stored


# SQLite: the same three writes, one statement each in one transaction, built once (building
# them per turn, values() and their cache keys, cost more CPU than running them).
_SQLITE_ANALYSED = (
    update(MessageRow)
    .where(MessageRow.id == bindparam("message_id"))
    .values(
        intent=bindparam("intent"),
        confidence=bindparam("confidence", type_=_MESSAGES.confidence.type),
        nlu=bindparam("nlu", type_=_MESSAGES.nlu.type),
        decision=bindparam("decision", type_=_MESSAGES.decision.type),
    )
)
_SQLITE_COUNTED = (
    update(ConversationRow)
    .where(
        ConversationRow.id == bindparam("conversation_id"),
        ConversationRow.mode != Mode.CLOSED.value,
    )
    .values(
        failed_turns=bindparam("failed_turns"),
        last_answered_intent=bindparam("last_answered_intent"),
    )
)
_INSERT_REPLY = insert(MessageRow)
# The values each statement reads (a table's column among them would be set too).
_ANALYSED_NAMES = ("message_id", "intent", "confidence", "nlu", "decision")
_COUNTED_NAMES = ("conversation_id", "failed_turns", "last_answered_intent")


class TurnQueries(RepositoryBase):
    async def record_turn(self, turn: RecordedTurn) -> None:
        """Store ``turn`` whole, or nothing of it.

        Raises :class:`~handoff.errors.MessageNotFound` for an unknown customer message and
        :class:`~handoff.errors.ConversationClosed` when the conversation was closed
        meanwhile.
        """
        if self._database.backend == "postgresql":
            await self._record_in_one_statement(turn)
            return
        parameters = _parameters(turn)
        stopped_at = await self._database.write_all(
            [
                (_SQLITE_ANALYSED, _only(parameters, _ANALYSED_NAMES), 1),
                (_SQLITE_COUNTED, _only(parameters, _COUNTED_NAMES), 1),
                (_INSERT_REPLY, message_values(turn.reply), 1),
            ],
            doing="recording a turn",
        )
        if stopped_at == 0:
            raise MessageNotFound(f"no message {turn.message_id}")
        if stopped_at == 1:
            raise ConversationClosed(f"conversation {turn.conversation_id} is closed")

    async def _record_in_one_statement(self, turn: RecordedTurn) -> None:
        # On the driver (see handoff.storage.direct); the reason for nothing stored, rare,
        # is looked up through SQLAlchemy.
        stored = await self._database.fetch_one(
            _POSTGRES_TURN, _parameters(turn), doing="recording a turn", returning=_RETURNED
        )
        if stored is None:
            async with self._database.statement(doing="recording a turn") as connection:
                await self._why_not_recorded(connection, turn)

    @staticmethod
    async def _why_not_recorded(connection: AsyncConnection, turn: RecordedTurn) -> None:
        found = await connection.execute(
            MessageRow.__table__.select().where(_MESSAGES.id == turn.message_id)
        )
        if found.first() is None:
            raise MessageNotFound(f"no message {turn.message_id}")
        raise ConversationClosed(f"conversation {turn.conversation_id} is closed")


def _parameters(turn: RecordedTurn) -> dict[str, Any]:
    analysis, reply = turn.analysis, message_values(turn.reply)
    return {
        "conversation_id": turn.conversation_id,
        "message_id": turn.message_id,
        "intent": analysis.intent,
        "confidence": analysis.confidence,
        "nlu": None if analysis.nlu is None else clean_json(analysis.nlu),
        "decision": None if analysis.decision is None else clean_json(analysis.decision),
        "failed_turns": turn.failed_turns,
        "last_answered_intent": turn.last_answered_intent,
        **{f"reply_{column}": reply.get(column) for column in _REPLY_COLUMNS},
    }


def _only(parameters: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: parameters[name] for name in names}
