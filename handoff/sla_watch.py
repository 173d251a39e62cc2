"""The SLA watcher: every few seconds, the open handoffs' clocks are read and the steps due
(:mod:`handoff.sla`) are taken.

A step is recorded first, by a conditional update that only one worker wins, then posted;
a post that fails is unrecorded, so the next look tries it again. Nothing is kept in
memory: after a restart the watcher carries on from what is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import Clock, utc_now
from handoff.errors import HandoffError
from handoff.model import Agent, ConversationKey, DeskThread
from handoff.sla import (
    DueStep,
    Elapsed,
    SlaSettings,
    SlaStep,
    SlaSubject,
    due_steps,
    wall_seconds,
    whole_minutes,
)
from handoff.stopping import pause

logger = logging.getLogger(__name__)


class SlaStore(Protocol):
    """The SLA ladder's records (:class:`handoff.storage.Repository` implements it)."""

    async def sla_subjects(self) -> list[SlaSubject]: ...

    async def mark_sla_step(
        self, handoff_id: int, step: SlaStep, *, at: datetime, anchor: datetime
    ) -> bool: ...

    async def unmark_sla_step(
        self, handoff_id: int, step: SlaStep, *, at: datetime, previous: datetime | None
    ) -> None: ...


class SlaAlerts(Protocol):
    """Where the ladder's pings go (the Slack adapter's ladder implements it). Each raises
    :class:`~handoff.errors.DeliveryError` or :class:`~handoff.errors.DeliveryDeferred`
    when the post could not be made."""

    async def reping(self, thread: DeskThread, text: str) -> None:
        """Mention the agents (the configured group or people, else everyone here)."""
        ...

    async def escalate(self, thread: DeskThread, text: str, note: str) -> None:
        """Post ``text`` where escalations go (if anywhere), and ``note`` in the thread."""
        ...

    async def ping_owner(self, thread: DeskThread, owner: Agent, text: str) -> None:
        """Mention the handoff's owner in the thread."""
        ...


Redraw = Callable[[int, ConversationKey], Awaitable[None]]
"""Draw handoff number N's card again (it shows the escalation)."""

WaitUpdate = Callable[[SlaSubject, float], Awaitable[None]]
"""Tell the waiting customer how long it has been, with their choices (handoff.waiting)."""


async def _no_update(subject: SlaSubject, waited: float) -> None:
    return None


class SlaWatch:
    def __init__(
        self,
        *,
        store: SlaStore,
        alerts: SlaAlerts,
        texts: AgentTexts,
        settings: SlaSettings,
        redraw: Redraw,
        wait_update: WaitUpdate = _no_update,
        clock: Clock = utc_now,
        elapsed: Elapsed = wall_seconds,
    ) -> None:
        self._store = store
        self._alerts = alerts
        self._texts = texts
        self._settings = settings
        self._redraw = redraw
        self._wait_update = wait_update
        self._clock = clock
        self._elapsed = elapsed

    async def tick(self) -> int:
        """Take every step due now; returns how many were taken."""
        now = self._clock()
        taken = 0
        for subject in await self._store.sla_subjects():
            steps = due_steps(subject, now=now, settings=self._settings, elapsed=self._elapsed)
            for due in steps:
                try:
                    taken += await self._take(subject, due, now)
                except HandoffError as exc:  # one handoff's trouble must not stop the rest
                    logger.error(
                        "handoff %s: SLA step %s failed: %s", subject.handoff_id, due.step, exc
                    )
        return taken

    async def watch_forever(self, *, interval: float, stop: asyncio.Event | None = None) -> None:
        """Every ``interval`` seconds; the first look one interval after the start, out of
        the way of the start (and of a stop that follows at once). Ends between rounds
        once ``stop`` is set."""
        stop = stop or asyncio.Event()
        while not await pause(stop, interval):
            try:
                taken = await self.tick()
            except HandoffError as exc:
                logger.warning("SLA clocks could not be read (%s); trying again", exc)
            else:
                if taken:
                    logger.info("SLA ladder: %d step(s) taken", taken)

    async def _take(self, subject: SlaSubject, due: DueStep, now: datetime) -> int:
        if not await self._store.mark_sla_step(
            subject.handoff_id, due.step, at=now, anchor=due.anchor
        ):
            return 0  # another worker took it, or the handoff changed meanwhile
        try:
            await self._post(subject, due)
        except HandoffError as exc:  # Slack refused, or the conversation was busy too long
            logger.warning(
                "handoff %s: could not post the SLA %s (%s); trying again later",
                subject.handoff_id,
                due.step,
                exc,
            )
            await self._store.unmark_sla_step(
                subject.handoff_id, due.step, at=now, previous=_previous(subject, due.step)
            )
            return 0
        logger.info("handoff %s: SLA %s after %.0f s", subject.handoff_id, due.step, due.waited)
        if due.step is SlaStep.ESCALATE:
            await self._redraw(subject.handoff_id, subject.key)
        return 1

    async def _post(self, subject: SlaSubject, due: DueStep) -> None:
        values = {"handoff": str(subject.handoff_id), "minutes": str(whole_minutes(due.waited))}
        if due.step is SlaStep.WAIT_UPDATE:
            await self._wait_update(subject, due.waited)
        elif due.step is SlaStep.REPING:
            await self._alerts.reping(subject.thread, self._texts.line(Line.SLA_REPING, **values))
        elif due.step is SlaStep.ESCALATE:
            await self._alerts.escalate(
                subject.thread,
                self._texts.line(Line.SLA_ESCALATED, **values),
                self._texts.line(Line.SLA_ESCALATED_NOTE, **values),
            )
        elif subject.owner is not None:
            text = self._texts.line(Line.SLA_IDLE, agent=subject.owner.display_name, **values)
            await self._alerts.ping_owner(subject.thread, subject.owner, text)


def _previous(subject: SlaSubject, step: SlaStep) -> datetime | None:
    if step is SlaStep.REPING:
        return subject.repinged_at
    if step is SlaStep.ESCALATE:
        return subject.escalated_at
    if step is SlaStep.WAIT_UPDATE:
        return subject.wait_updated_at
    return subject.idle_pinged_at
