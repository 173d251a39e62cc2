"""A turn the bot answered: the analysis, the counters and the reply, stored at once."""

from __future__ import annotations

import pytest

from handoff.errors import ConversationClosed, MessageNotFound
from handoff.model import Author
from handoff.records import Analysis, Conversation, NewMessage, Platform, RecordedTurn
from handoff.storage import Repository, utc_now
from tests.storage.test_messages import customer_message

ANALYSIS = Analysis(
    intent="reset_password",
    confidence=0.93,
    nlu={"ranking": [{"intent": "reset_password", "confidence": 0.93}]},
    decision={"action": "answer", "intent": "reset_password"},
)


def turn(conversation: Conversation, message_id: int) -> RecordedTurn:
    return RecordedTurn(
        message_id=message_id,
        analysis=ANALYSIS,
        conversation_id=conversation.id,
        failed_turns=0,
        last_answered_intent="reset_password",
        reply=NewMessage(
            conversation_id=conversation.id,
            author=Author.BOT,
            platform=Platform.TELEGRAM,
            platform_chat_id=conversation.chat_id,
            platform_message_id="9001",
            text="To reset your password: ...",
            decision={"action": "answer"},
            created_at=utc_now(),
        ),
    )


async def test_a_turn_is_stored_whole(repository: Repository, conversation: Conversation) -> None:
    asked = await repository.add_message(customer_message(conversation, text="forgot password"))
    assert asked is not None
    await repository.update_conversation(conversation.id, failed_turns=1)

    await repository.record_turn(turn(conversation, asked.id))

    question, answer = await repository.recent_messages(conversation.id, limit=10)
    assert (question.intent, question.confidence, question.decision) == (
        "reset_password",
        0.93,
        {"action": "answer", "intent": "reset_password"},
    )
    assert (answer.author, answer.text, answer.platform_message_id) == (
        Author.BOT,
        "To reset your password: ...",
        "9001",
    )
    stored = await repository.get_conversation(conversation.id)
    assert stored is not None
    assert (stored.failed_turns, stored.last_answered_intent) == (0, "reset_password")


async def test_a_turn_of_a_closed_conversation_stores_nothing(
    repository: Repository, conversation: Conversation
) -> None:
    asked = await repository.add_message(customer_message(conversation, text="forgot password"))
    assert asked is not None
    await repository.close_conversation(conversation.id)

    with pytest.raises(ConversationClosed):
        await repository.record_turn(turn(conversation, asked.id))

    [question] = await repository.recent_messages(conversation.id, limit=10)
    assert question.intent is None  # the analysis was rolled back with the rest


async def test_a_turn_for_an_unknown_message(
    repository: Repository, conversation: Conversation
) -> None:
    with pytest.raises(MessageNotFound):
        await repository.record_turn(turn(conversation, 424242))
    assert await repository.recent_messages(conversation.id, limit=10) == []
