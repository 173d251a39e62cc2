"""Counting what reaches the database: transactions, statements, and the reads an agent's
reply should not need. For ``tandem bench agent-reply`` and the tests that keep those
numbers honest; nothing in the service counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from handoff.storage.database import Database

_CONVERSATION_READ = re.compile(r"^\s*SELECT\b.*\bFROM conversations\b", re.S | re.I)
# The "recent messages" read: the last N of a conversation, newest first.
_RECENT_READ = re.compile(
    r"^\s*SELECT\b.*\bFROM messages\b.*ORDER BY messages\.id DESC.*LIMIT", re.S | re.I
)


@dataclass(frozen=True, slots=True)
class Counts:
    transactions: int = 0
    statements: int = 0  # not counting BEGIN, COMMIT, ROLLBACK
    conversation_reads: int = 0  # statements reading the conversations table
    recent_reads: int = 0  # "the conversation's last N messages"


class StatementCounter:
    """Counts on one :class:`Database` from construction until :meth:`close`."""

    def __init__(self, database: Database) -> None:
        self._engine = database.sync_engine
        self._transactions = 0
        self._statements: list[str] = []
        event.listen(self._engine, "begin", self._on_begin)
        event.listen(self._engine, "before_cursor_execute", self._on_statement)

    def take(self) -> Counts:
        """What was counted since the last take (or since construction), and start again."""
        statements, self._statements = self._statements, []
        transactions, self._transactions = self._transactions, 0
        return Counts(
            transactions=transactions,
            statements=len(statements),
            conversation_reads=sum(bool(_CONVERSATION_READ.match(s)) for s in statements),
            recent_reads=sum(bool(_RECENT_READ.match(s)) for s in statements),
        )

    def close(self) -> None:
        event.remove(self._engine, "begin", self._on_begin)
        event.remove(self._engine, "before_cursor_execute", self._on_statement)

    def _on_begin(self, connection: Any) -> None:
        self._transactions += 1

    def _on_statement(self, *args: Any) -> None:
        statement = str(args[2])
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self._statements.append(statement)
