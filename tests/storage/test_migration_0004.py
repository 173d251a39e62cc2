"""Migration 0004 on a database with handoffs in it: the card and the introduced agents are
filled in from the messages, and the owner is the one record of who has the conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import Connection, text

from handoff.engine_support import ticket_from_handoff
from handoff.model import Author, ConversationKey, Mode
from handoff.storage import Database, Repository, head_revision
from handoff.storage.migrate import alembic_config
from tests.storage.conftest import START
from tests.storage.migration_rows import add_conversation, add_row
from tests.storage.test_database import _run_sync

KEY = ConversationKey("telegram", "7")


def _at_0003_with_handoffs(connection: Connection) -> dict[str, int]:
    command.upgrade(alembic_config(connection=connection), "0003")

    def add(table: str, **values: object) -> int:
        return add_row(connection, table, **values)

    def minutes(n: int) -> Any:
        return START + timedelta(minutes=n)

    conversation = add_conversation(connection, display_name="Grace Hopper", username="grace")

    def message(n: int, author: str, text: str | None, **values: object) -> int:
        return add(
            "messages",
            conversation_id=conversation,
            author=author,
            platform="telegram" if author != "agent" else "slack",
            text=text,
            created_at=minutes(n),
            **values,
        )

    message(1, "customer", "hello", intent="greet", confidence=0.9)
    message(2, "bot", "Hi! How can I help?")
    message(3, "customer", None, kind="photo")
    handoff = add(
        "handoffs",
        conversation_id=conversation,
        reason="person_requested",
        reason_detail={"explanation": "asked"},
        requested_at=minutes(4),
        claimed_at=minutes(5),
        agent_id="U0ALICE",
        agent_name="Alice",
        agent_channel="C0AGENTS",
        agent_thread_ts="1.0",
    )
    message(5, "bot", "A person will answer.")
    alice = message(6, "agent", "Alice here", author_id="U0ALICE", delivery="delivered")
    message(7, "agent", "more", author_id="U0ALICE", delivery="delivered")
    bob = message(8, "agent", "Bob too", author_id="U0BOB", delivery="pending")
    return {"conversation": conversation, "handoff": handoff, "alice": alice, "bob": bob}


async def test_0004_fills_the_card_and_the_introduced_agents_and_drops_human(
    database: Database, database_url: str
) -> None:
    ids = await _run_sync(database_url, _at_0003_with_handoffs)
    await database.upgrade()
    repository = Repository(database=database)

    conversation = await repository.get_conversation(ids["conversation"])
    assert conversation is not None
    assert conversation.mode is Mode.WAITING  # who has it: the handoff's owner
    [active] = await repository.active_conversations()
    assert active.live().mode is Mode.HUMAN
    handoff = await repository.get_handoff(ids["handoff"])
    assert handoff is not None
    assert handoff.mode is Mode.HUMAN
    assert handoff.introduced == {"U0ALICE": ids["alice"], "U0BOB": ids["bob"]}
    ticket = ticket_from_handoff(handoff=handoff, key=KEY)
    assert ticket.customer.display_name == "Grace Hopper"
    assert ticket.customer.username == "grace"
    assert [(line.author, line.text) for line in ticket.transcript] == [
        (Author.CUSTOMER, "hello"),
        (Author.BOT, "Hi! How can I help?"),
        (Author.CUSTOMER, "[photo]"),
    ]
    assert ticket.transcript[0].at == START + timedelta(minutes=1)
    assert ticket.transcript[0].intent == "greet"

    def downgrade(connection: Connection) -> str:
        command.downgrade(alembic_config(connection=connection), "0003")
        return str(connection.execute(text("SELECT mode FROM conversations")).scalar_one())

    assert await _run_sync(database_url, downgrade) == "human"
    await database.upgrade()
    assert await database.current_revision() == head_revision()  # 0004 and those after it
