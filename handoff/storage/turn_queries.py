"""The repository's turns: what one answered customer message changed, in one transaction."""

from __future__ import annotations

from sqlalchemy import insert, update

from handoff.errors import ConversationClosed, MessageNotFound
from handoff.model import Mode
from handoff.records import RecordedTurn
from handoff.storage.message_queries import message_values
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.sanitize import clean_json
from handoff.storage.tables import ConversationRow, MessageRow

# Plain statements on a connection, not the ORM unit of work: a turn is three writes by
# primary key, and an ORM session around them cost about a millisecond of CPU each.


class TurnQueries(RepositoryBase):
    async def record_turn(self, turn: RecordedTurn) -> None:
        """Store ``turn`` whole, or nothing of it.

        Raises :class:`~handoff.errors.MessageNotFound` for an unknown customer message and
        :class:`~handoff.errors.ConversationClosed` when the conversation was closed
        meanwhile.
        """
        analysis = turn.analysis
        async with self._database.statements(doing="recording a turn") as session:
            analysed = await session.execute(
                update(MessageRow)
                .where(MessageRow.id == turn.message_id)
                .values(
                    intent=analysis.intent,
                    confidence=analysis.confidence,
                    nlu=None if analysis.nlu is None else clean_json(analysis.nlu),
                    decision=None if analysis.decision is None else clean_json(analysis.decision),
                )
            )
            if analysed.rowcount != 1:
                raise MessageNotFound(f"no message {turn.message_id}")
            counted = await session.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == turn.conversation_id,
                    ConversationRow.mode != Mode.CLOSED.value,
                )
                .values(
                    failed_turns=turn.failed_turns,
                    last_answered_intent=turn.last_answered_intent,
                )
            )
            if counted.rowcount != 1:
                raise ConversationClosed(f"conversation {turn.conversation_id} is closed")
            await session.execute(insert(MessageRow).values(**message_values(turn.reply)))
