"""Durable intake: every event from outside is journaled before it is acknowledged, then
handled one at a time per lane, retried through outages, and never left without an answer.

The adapters call :meth:`Intake.handle` (customers) and :meth:`Intake.agent_reply` /
:meth:`Intake.agent_action` (agents). Those return once the event is on disk, which is what
the adapter may then confirm to the platform. Handling happens behind, per lane (a chat, or
a handoff thread), in arrival order:

- while the database or the live state is unavailable, the lane waits and tries again with
  back-off; later events of that lane wait behind it, other lanes go on;
- a customer who has waited ``notice_after`` seconds is told, once, that the message is
  kept and will be answered;
- an event whose handling fails for another reason is not retried forever: the customer's
  conversation goes to a person (or, if even that fails, the customer is told the message is
  saved and a person will look at it); the entry stays in the journal, marked failed.

A restart replays what the journal still holds, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from handoff import log_context
from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.errors import (
    DeliveryDeferred,
    DeliveryError,
    HandoffError,
)
from handoff.intake_parts import TRANSIENT, Backoff, CustomerHandler, Halted, Handlers
from handoff.journal import Event, EventKind, Journal, JournalEntry, kind_of, lane_of, to_json
from handoff.lane_order import WAIT_UP_TO, LaneOrder, NoOrder, Turns
from handoff.model import AgentAction, AgentReply, Inbound, Outbound
from handoff.responses import Responses

__all__ = ["Backoff", "CustomerHandler", "Handlers", "Intake"]

logger = logging.getLogger(__name__)


class Intake:
    """Implements :class:`~handoff.ports.InboundHandler` and
    :class:`~handoff.ports.AgentEventHandler` for the adapters.

    Built first, from the journal alone, and handed to the adapters; the core, built from
    the adapters, is given at :meth:`run`. Until then events are journaled and queued.
    """

    def __init__(
        self,
        *,
        journal: Journal,
        responses: Responses,
        texts: AgentTexts,
        notice_after: float,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        order: LaneOrder | None = None,
        order_wait: float = WAIT_UP_TO,
    ) -> None:
        self._journal = journal
        # Several workers: a lane's events in the order they were journaled, by any worker.
        self._turns = Turns(order or NoOrder(), wait_up_to=order_wait, clock=clock, sleep=sleep)
        self._handlers: Handlers | None = None
        self._responses = responses
        self._texts = texts
        self._notice_after = notice_after
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[str, deque[JournalEntry]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._noticed: set[str] = set()  # lanes whose customer was told about the wait
        self._idle = asyncio.Event()
        self._idle.set()
        self._running = False  # events are queued, not handled, until run()
        self._halted = False  # stop() interrupts what is being handled: no retries then

    # --- what the adapters call ---------------------------------------------------------

    async def handle(self, inbound: Inbound) -> None:
        await self._accept(inbound)

    async def agent_reply(self, reply: AgentReply) -> None:
        await self._accept(reply)

    async def agent_action(self, action: AgentAction) -> None:
        await self._accept(action)

    async def _accept(self, event: Event) -> None:
        lane = lane_of(event)
        async with self._turns.place(lane) as ticket:
            entry = await self._journal.append(
                lane=lane,
                kind=kind_of(event),
                payload=to_json(event),
                at=self._clock(),
                ticket=ticket,
            )
            self._submit(entry)  # in the lane's queue in ticket order, too

    # --- lifecycle ------------------------------------------------------------------------

    async def load(self) -> int:
        """Queue what the journal still holds (a crash, an outage across a restart), ahead
        of anything new; nothing is handled before :meth:`run`."""
        pending = await self._journal.pending()
        for entry in pending:
            self._submit(entry)
        return len(pending)

    def run(self, handlers: Handlers) -> None:
        """Start handling with ``handlers`` (once the channels can send)."""
        self._handlers = handlers
        self._running = True
        for lane in list(self._lanes):
            self._start_worker(lane)

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let the lanes drain for up to ``grace`` seconds, then stop them and return once
        no handling is left running (nothing of the intake touches the journal or the
        handlers after this); what is not handled yet stays in the journal for the next
        start. Events accepted meanwhile are journaled too (handled within the grace, or at
        the next start)."""
        if self._workers:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=grace)
            except TimeoutError:
                logger.warning("stopping with %d event(s) left in the journal", self.backlog)
        self._running, self._halted = False, True
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        # What is left keeps its tickets: handled first at this worker's restart, the
        # lanes' later events wait for it, a bounded time (see handoff.lane_order).

    async def drained(self) -> None:
        """Wait until every accepted event has been handled (for tests and the demo)."""
        await self._idle.wait()

    @property
    def backlog(self) -> int:
        return sum(len(queue) for queue in self._lanes.values())

    # --- lanes ------------------------------------------------------------------------------

    def _submit(self, entry: JournalEntry) -> None:
        self._lanes.setdefault(entry.lane, deque()).append(entry)
        if self._running:
            self._start_worker(entry.lane)

    def _start_worker(self, lane: str) -> None:
        if lane not in self._workers:
            self._idle.clear()
            self._workers[lane] = asyncio.create_task(self._drain(lane), name=f"intake {lane}")

    async def _drain(self, lane: str) -> None:
        queue = self._lanes[lane]
        log_context.conversation.set(lane)  # this task's own context: its lines name it
        try:
            while queue:
                await self._process(queue[0])
                queue.popleft()
        finally:
            if not queue:
                del self._lanes[lane]
            del self._workers[lane]
            if not self._workers:
                self._idle.set()

    async def _process(self, entry: JournalEntry) -> None:
        work = asyncio.create_task(self._until_handled(entry))
        try:
            if entry.kind is EventKind.CUSTOMER and entry.lane not in self._noticed:
                waited = (self._clock() - entry.received_at).total_seconds()
                # Replayed after a restart, it may be old already: give it a moment first.
                grace = min(self._notice_after, 2.0)
                timeout = max(self._notice_after - waited, grace)
                done, _ = await asyncio.wait({work}, timeout=timeout)
                if not done:
                    await self._tell_customer_to_wait(entry)
            await work
        finally:
            if not work.done():  # the lane was stopped: so is its handling, before stop() ends
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    async def _until_handled(self, entry: JournalEntry) -> None:
        await self._turns.wait(entry.lane, entry.ticket)  # earlier events of other workers
        failures = 0
        while True:
            try:
                await self._dispatch_unless_halted(entry)
            except TRANSIENT as exc:
                failures += 1
                if failures == 1:
                    logger.warning("%s waits: %s; trying again until it passes", entry.lane, exc)
                await self._sleep(self._backoff.delay(failures))
                continue
            except DeliveryDeferred as exc:  # Telegram asked to wait: the chat waits
                logger.warning("%s waits %.0f s: %s", entry.lane, exc.retry_after, exc)
                await self._sleep(exc.retry_after)
                continue
            except HandoffError as exc:
                failures += 1
                if failures < self._backoff.attempts_for_errors:
                    logger.warning("%s: %s; trying again", entry.lane, exc)
                    await self._sleep(self._backoff.delay(failures))
                    continue
                await self._give_up(entry, exc)
            except Exception as exc:  # a bug: never retried, never silent
                logger.exception("handling journal entry %s of %s failed", entry.id, entry.lane)
                await self._give_up(entry, exc)
            else:
                self._noticed.discard(entry.lane)
                await self._forget(entry)
            if entry.ticket is not None:  # the lane's next event, in any worker, may go
                await self._turns.done(entry.lane, [entry.ticket])
            return

    @property
    def _running_with(self) -> Handlers:
        assert self._handlers is not None  # workers start in run()
        return self._handlers

    async def _dispatch_unless_halted(self, entry: JournalEntry) -> None:
        try:
            await self._dispatch(entry)
        except Exception as exc:
            if self._halted:  # a stop cut it short (an error raised while cancelling)
                raise Halted from exc
            raise

    async def _dispatch(self, entry: JournalEntry) -> None:
        event, handlers = entry.event(), self._running_with
        if isinstance(event, Inbound):
            await handlers.customers.handle(event)
        elif isinstance(event, AgentReply):
            await handlers.agents.agent_reply(event)
        else:
            await handlers.agents.agent_action(event)

    async def _forget(self, entry: JournalEntry) -> None:
        try:
            await self._journal.done(entry.id)
        except HandoffError as exc:  # handled already; at worst it is handled again
            logger.error("could not clear journal entry %s: %s", entry.id, exc)

    # --- telling people ---------------------------------------------------------------------

    async def _tell_customer_to_wait(self, entry: JournalEntry) -> None:
        event = entry.event()
        assert isinstance(event, Inbound)
        self._noticed.add(entry.lane)
        logger.warning("%s has waited %.0f s or more; telling them", entry.lane, self._notice_after)
        await self._send(event, "outage_notice")

    async def _give_up(self, entry: JournalEntry, error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"
        try:
            await self._journal.failed(entry.id, reason=reason)
        except HandoffError as exc:
            logger.error("could not mark journal entry %s failed: %s", entry.id, exc)
        event = entry.event()
        if isinstance(event, Inbound):
            if not await self._running_with.customers.give_up(event, error=reason):
                await self._send(event, "error_notice")
            return
        try:
            text = self._texts.line(Line.NOT_HANDLED, agent=event.agent.display_name)
            await self._running_with.desk.tell_agent(event.thread, event.agent, text)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.error("could not tell agent %s: %s", event.agent.user_id, exc)

    async def _send(self, inbound: Inbound, key: str) -> None:
        reply = self._responses.system(key)
        try:
            await self._running_with.channel.send(Outbound(key=inbound.key, text=reply.text))
        except HandoffError as exc:
            logger.error("could not tell %s (%s): %s", inbound.key, key, exc)
