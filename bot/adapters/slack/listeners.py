"""What Tandem does with each request Bolt hands it: an agent's message, a card button, a
``/tandem`` command. Each is handed to the core before Slack gets its answer.

The core takes an event by recording it durably, and says so by returning; it raises
:class:`~handoff.errors.IntakeUnavailable` when it could not. So Slack hears that an
event was taken only once it was:

- a message event that was not taken is answered 503 (over Socket Mode: not
  acknowledged), and Slack sends it again, up to three times over about five minutes;
  after the last, its author is told that it did not reach the customer;
- a button press or a command, which Slack never sends again, is acknowledged all the
  same, and the agent is told that Tandem could not take it and to try again.

Every request goes through :class:`~.dedupe.Once`: a redelivery of one that was taken, or
a replayed press or command, is acknowledged without being handled again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handoff.drafts import SavedReply
from handoff.errors import DeliveryDeferred, DeliveryError, IntakeUnavailable
from handoff.model import Agent, AgentAction, AgentCommand, AgentReply, DeskThread
from handoff.ports import AgentEventHandler

from .dedupe import Once, request_identity
from .desk import SlackDesk
from .directory import Directory
from .inflight import InFlight
from .markup import mentioned_users, to_plain_text
from .translate import (
    USAGE,
    BotIdentity,
    CommandRequest,
    Ignored,
    Refusal,
    button_press,
    classify_message,
    parse_command,
)

logger = logging.getLogger(__name__)

ON_IT = "On it."
FAILED_REPLY = (
    "Tandem could not take your message, so it has not reached the customer. "
    "Please send it again in a moment."
)
FAILED_ACTION = "Tandem could not take that just now, so nothing changed. Please try again."
NOT_TAKEN = "Tandem could not take this event now; send it again later."
# Slack sends an event that was not taken again three times (X-Slack-Retry-Num 1 to 3).
LAST_RETRY = 3
# Slack wants a command acknowledged within 3 seconds; the lookup must leave time for that.
RESOLVE_TIMEOUT = 1.5

HandoffResolver = Callable[[int], Awaitable[DeskThread | None]]


class SavedReplyHandler(Protocol):
    async def send_saved(self, saved: SavedReply) -> str | None: ...


class Listeners:
    """Bolt's listeners; Bolt passes their arguments by name. They take requests as
    :attr:`identity`, set once the adapter knows who it is; :attr:`inflight` tracks them."""

    def __init__(
        self,
        *,
        channel: str,
        handler: AgentEventHandler,
        desk: SlackDesk,
        directory: Directory,
        note_prefix: str,
        once: Once | None = None,
        others: frozenset[str] = frozenset(),
    ) -> None:
        self._channel = channel
        self._others = others  # the routes' channels (agents.routes)
        self._handler = handler
        self._desk = desk
        self._directory = directory
        self._note_prefix = note_prefix
        # Given at start (the core that resolves numbers is built after the adapter).
        self.resolve_handoff_number: HandoffResolver | None = None
        self.saved_replies: SavedReplyHandler | None = None  # `/tandem reply NAME`
        self._once = once or Once()
        self.identity: BotIdentity | None = None
        self.inflight = InFlight()

    async def on_message(
        self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> BoltResponse | None:
        """None acknowledges the event (Bolt answers 200); a response of Tandem's own
        refuses it, so that Slack sends it again."""
        async with self.inflight.track(), self._once.first(request_identity(body)) as turn:
            if turn is None:
                logger.info(
                    "Slack redelivered event %s (retry %s); already taken",
                    body.get("event_id"),
                    _retry_number(request),
                )
                return None
            if await self._take_message(event, retry=_retry_number(request)):
                turn.taken()
                return None
            return BoltResponse(status=503, body=NOT_TAKEN)

    async def on_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self.inflight.track(), self._once.first(request_identity(body)) as turn:
            if turn is None:
                logger.info("ignored a button press that was already taken (a replay)")
                await ack()
                return
            press = button_press(body, channel=self._channel, others=self._others)
            if press is None:
                logger.warning("ignored a Tandem button pressed outside the agent channel")
                turn.taken()
                await ack()
                return
            logger.info(
                "%s pressed %s on the card of handoff %s",
                press.user_id,
                press.command.value,
                press.handoff_id,
            )
            agent = await self._agent(press.user_id)
            action = AgentAction(
                thread=press.thread,
                agent=agent,
                command=press.command,
                # Retry names the reply to send again; a card's buttons, the handoff.
                message_id=_number(press.handoff_id)
                if press.command is AgentCommand.RETRY
                else None,
            )
            if await self._act(action):
                turn.taken()
            else:
                self._tell_later(press.thread, agent, FAILED_ACTION)
            await ack()

    async def on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The acknowledgement is the agent's answer (only they see it): "On it." once the
        core has the action, or what was wrong and how to type it."""
        async with self.inflight.track(), self._once.first(request_identity(body)) as turn:
            if turn is None:
                logger.info("ignored a /tandem command that was already taken (a replay)")
                await ack()
                return
            outcome = await self._command(body)
            if outcome == ON_IT:
                turn.taken()
            await _answer(ack, outcome)

    # --- helpers ------------------------------------------------------------------------

    async def _take_message(self, event: dict[str, Any], *, retry: int) -> bool:
        """Whether the event was taken: relayed to the core, or not one to relay."""
        assert self.identity is not None  # requests are refused until it is known
        draft = classify_message(
            event,
            channel=self._channel,
            me=self.identity,
            note_prefix=self._note_prefix,
            others=self._others,
        )
        if isinstance(draft, Ignored):
            logger.debug("not relaying Slack message %s: %s", event.get("ts"), draft.reason)
            if draft.notice is not None and isinstance(event.get("user"), str):
                thread = DeskThread(str(event.get("channel")), str(event.get("thread_ts")))
                agent = Agent(user_id=event["user"], display_name=event["user"])
                self._tell_later(thread, agent, draft.notice)
            return True
        agent = await self._agent(draft.user_id)
        names = await self._directory.display_names(mentioned_users(draft.text))
        reply = AgentReply(
            thread=draft.thread,
            agent=agent,
            text="" if draft.deleted else to_plain_text(draft.text, names=names),
            message_ts=draft.ts,
            revises=draft.revises,
            deleted=draft.deleted,
        )
        what = f"{agent.user_id}'s reply {reply.message_ts} in thread {reply.thread.thread_ts}"
        if await _handed_on(self._handler.agent_reply(reply), what=what):
            return True
        if retry >= LAST_RETRY:
            self._tell_later(reply.thread, agent, FAILED_REPLY)
        return False

    async def _command(self, form: dict[str, Any]) -> str:
        """What to answer the command with: :data:`ON_IT` once it was handed on."""
        words = str(form.get("text") or "").split()
        if len(words) >= 2 and words[0].casefold() == "reply" and self.saved_replies:
            # `/tandem reply NAME <thread>`: the thread is read as the other commands read it.
            return await self._saved_reply(
                {**form, "text": " ".join(["status", *words[2:]])}, name=words[1]
            )
        parsed = parse_command(form, channel=self._channel, others=self._others)
        if isinstance(parsed, Refusal):
            return parsed.text
        thread = await self._thread_of(parsed)
        if isinstance(thread, Refusal):
            return thread.text
        agent = await self._agent(parsed.user_id)
        action = AgentAction(thread=thread, agent=agent, command=parsed.command)
        return ON_IT if await self._act(action) else FAILED_ACTION

    async def _saved_reply(self, form: dict[str, Any], *, name: str) -> str:
        parsed = parse_command(form, channel=self._channel, others=self._others)
        if isinstance(parsed, Refusal):
            return parsed.text.replace("claim|release|return|close|status", "reply NAME")
        thread = await self._thread_of(parsed)
        if isinstance(thread, Refusal):
            return thread.text
        assert self.saved_replies is not None
        saved = SavedReply(
            thread=thread,
            agent=await self._agent(parsed.user_id),
            name=name,
            request_id=str(form.get("trigger_id") or ""),
        )
        try:
            refusal = await self.saved_replies.send_saved(saved)
        except IntakeUnavailable as exc:
            logger.warning("could not take a saved reply by %s: %s", parsed.user_id, exc)
            return FAILED_ACTION
        return ON_IT if refusal is None else refusal

    async def _thread_of(self, parsed: CommandRequest) -> DeskThread | Refusal:
        if parsed.thread is not None:
            return parsed.thread
        assert parsed.handoff_number is not None  # parse_command gives one of them
        return await self._find(parsed.handoff_number)

    async def _act(self, action: AgentAction) -> bool:
        what = f"{action.command.value} by {action.agent.user_id} in {action.thread.thread_ts}"
        return await _handed_on(self._handler.agent_action(action), what=what)

    async def _agent(self, user_id: str) -> Agent:
        return Agent(user_id=user_id, display_name=await self._directory.display_name(user_id))

    async def _find(self, number: int) -> DeskThread | Refusal:
        """The thread of handoff ``number``, or what to tell the agent instead."""
        if self.resolve_handoff_number is None:
            return Refusal(f"Tandem cannot look handoffs up by number here; use a link. {USAGE}")
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                thread = await self.resolve_handoff_number(number)
        except TimeoutError:
            logger.warning("looking up handoff #%s took over %ss", number, RESOLVE_TIMEOUT)
            return Refusal(f"Looking up handoff #{number} took too long; try again, or use a link.")
        except Exception:  # the injected lookup failed; the command must still be answered
            logger.exception("looking up handoff #%s failed", number)
            return Refusal(f"Tandem could not look up handoff #{number}; try a link instead.")
        if thread is None:
            return Refusal(f"There is no handoff #{number}. {USAGE}")
        return thread

    def _tell_later(self, thread: DeskThread, agent: Agent, text: str) -> None:
        """Tell ``agent`` after Slack has its answer: a Web API call may take longer than
        the three seconds Slack waits for one."""
        self.inflight.spawn(
            _tell_quietly(self._desk, thread, agent, text), what=f"telling {agent.user_id}"
        )


async def _handed_on(handing: Awaitable[None], *, what: str) -> bool:
    """Whether the core took the event; why not is logged (the stack only for a bug)."""
    try:
        await handing
    except IntakeUnavailable as exc:
        logger.warning("could not take %s: %s", what, exc)
        return False
    except Exception:  # the top of a listener: log the stack; the caller says what failed
        logger.exception("handling %s failed", what)
        return False
    return True


async def _tell_quietly(desk: SlackDesk, thread: DeskThread, agent: Agent, text: str) -> None:
    """Best effort: this is already the report of a failure."""
    try:
        await desk.tell_agent(thread, agent, text)
    except (DeliveryError, DeliveryDeferred) as exc:
        logger.warning("could not tell %s: %s", agent.user_id, exc)


async def _answer(ack: AsyncAck, text: str) -> None:
    """Acknowledge a command with ``text`` for the agent alone; explicitly JSON and
    ephemeral (Bolt would send text alone as a bare text/plain body)."""
    await ack(text=text, response_type="ephemeral")


def _retry_number(request: AsyncBoltRequest) -> int:
    """Which redelivery this is (0: the first delivery); Bolt puts Socket Mode's
    ``retry_attempt`` in the same header."""
    value = request.headers.get("x-slack-retry-num", ["0"])[0]
    return int(value) if value.isdigit() else 0


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None
