"""Lessons in SQL: what agents taught, reviewed by trainers. Implements
:class:`handoff.lessons.LessonStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update

from handoff.clock import as_utc
from handoff.lessons import Lesson, LessonStatus, NewLesson
from handoff.storage.repository_base import RepositoryBase
from handoff.storage.tables import LessonRow


class LessonQueries(RepositoryBase):
    async def add_lesson(self, lesson: NewLesson) -> Lesson:
        row = LessonRow(
            message_id=lesson.message_id,
            handoff_id=lesson.handoff_id,
            text=lesson.text,
            intent=lesson.intent,
            taught_by_id=lesson.taught_by_id,
            taught_by_name=lesson.taught_by_name,
            taught_at=as_utc(lesson.taught_at, field="taught_at"),
            model=lesson.model,
            status=LessonStatus.PENDING.value,
        )
        async with self._transaction("storing a lesson") as session:
            if lesson.message_id is not None:
                # The agent changed their mind: the newest label wins until it is reviewed.
                await session.execute(
                    delete(LessonRow).where(
                        LessonRow.message_id == lesson.message_id,
                        LessonRow.status == LessonStatus.PENDING.value,
                    )
                )
            session.add(row)
            await session.flush()
            return _lesson(row)

    async def lessons(
        self, *, statuses: Sequence[LessonStatus] = (), handoff_id: int | None = None
    ) -> list[Lesson]:
        query = select(LessonRow).order_by(LessonRow.id)
        if statuses:
            query = query.where(LessonRow.status.in_([s.value for s in statuses]))
        if handoff_id is not None:
            query = query.where(LessonRow.handoff_id == handoff_id)
        async with self._transaction("reading lessons") as session:
            return [_lesson(row) for row in (await session.scalars(query)).all()]

    async def set_status(
        self, ids: Sequence[int], status: LessonStatus, *, by: str, at: datetime
    ) -> int:
        if not ids:
            return 0
        async with self._transaction("reviewing lessons") as session:
            result = await session.execute(
                update(LessonRow)
                .where(LessonRow.id.in_(list(ids)))
                .values(status=status.value, reviewed_by=by, reviewed_at=as_utc(at, field="at"))
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _lesson(row: LessonRow) -> Lesson:
    return Lesson(
        id=row.id,
        message_id=row.message_id,
        handoff_id=row.handoff_id,
        text=row.text,
        intent=row.intent,
        taught_by_id=row.taught_by_id,
        taught_by_name=row.taught_by_name,
        taught_at=row.taught_at,
        model=row.model,
        status=LessonStatus(row.status),
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )
