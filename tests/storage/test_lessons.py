"""Lessons in SQL, on SQLite and PostgreSQL: stored, relabelled while pending, reviewed."""

from __future__ import annotations

from handoff.lessons import LessonStatus, NewLesson
from handoff.storage import Database
from handoff.storage.lesson_queries import LessonQueries
from tests.storage.conftest import START


def new(message_id: int | None, intent: str, text: str = "my card [card] was charged") -> NewLesson:
    return NewLesson(
        message_id=message_id,
        handoff_id=7,
        text=text,
        intent=intent,
        taught_by_id="U1",
        taught_by_name="Alice",
        taught_at=START,
        model="20261206-090000.tar.gz",
    )


async def test_a_lesson_is_stored_pending_with_who_when_and_the_model(migrated: Database) -> None:
    store = LessonQueries(database=migrated)
    stored = await store.add_lesson(new(11, "billing_question"))
    assert stored.status is LessonStatus.PENDING
    assert (await store.lessons()) == [stored]
    assert stored.taught_at == START
    assert stored.model == "20261206-090000.tar.gz"
    assert stored.text == "my card [card] was charged"


async def test_a_pending_lesson_is_replaced_when_the_message_is_taught_again(
    migrated: Database,
) -> None:
    store = LessonQueries(database=migrated)
    await store.add_lesson(new(11, "billing_question"))
    again = await store.add_lesson(new(11, "refund_request"))
    await store.add_lesson(new(None, "greet", "hello"))
    await store.add_lesson(new(None, "greet", "hi"))
    lessons = await store.lessons()
    assert [(x.message_id, x.intent) for x in lessons] == [
        (11, "refund_request"),
        (None, "greet"),
        (None, "greet"),
    ]
    assert lessons[0] == again


async def test_review_changes_the_status_and_records_the_reviewer(migrated: Database) -> None:
    store = LessonQueries(database=migrated)
    first = await store.add_lesson(new(1, "billing_question"))
    second = await store.add_lesson(new(2, "complaint"))
    assert await store.set_status([first.id], LessonStatus.ACCEPTED, by="tom", at=START) == 1
    assert await store.set_status([], LessonStatus.REJECTED, by="tom", at=START) == 0
    accepted = await store.lessons(statuses=[LessonStatus.ACCEPTED])
    assert [(x.id, x.reviewed_by, x.reviewed_at) for x in accepted] == [(first.id, "tom", START)]
    pending = await store.lessons(statuses=[LessonStatus.PENDING, LessonStatus.REJECTED])
    assert [x.id for x in pending] == [second.id]
