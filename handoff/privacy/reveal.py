"""Revealing masked values to the agent who owns the handoff, and to nobody else.

The request names a thread and what to reveal: one relayed message (``message:ID``) or the
customer's messages on the card (``card:HANDOFF``). The answer goes to the requesting agent
alone (the desk's private line), only after the reveal is in the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.model import Agent, Author, DeskThread
from handoff.ports import AgentDesk
from handoff.privacy.audit import PrivacyEvent, PrivacyEventKind, PrivacyLog
from handoff.privacy.masking import Masker
from handoff.records import Handoff, StoredMessage
from handoff.store import ConversationStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RevealRequest:
    thread: DeskThread
    agent: Agent
    target: str  # "message:ID" or "card:HANDOFF", as offered


class Revealer:
    """Handles reveal requests. ``desk`` must be the undecorated one: its private line to
    the agent carries the values as written."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        log: PrivacyLog,
        desk: AgentDesk,
        masker: Masker,
        texts: AgentTexts,
        transcript_lines: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._log = log
        self._desk = desk
        self._masker = masker
        self._texts = texts
        self._transcript_lines = transcript_lines
        self._clock = clock

    async def reveal(self, request: RevealRequest) -> None:
        agent, thread = request.agent, request.thread
        found = await self._store.locate_thread(
            agent_channel=thread.channel, thread_ts=thread.thread_ts
        )
        if found is None:
            await self._tell(request, Line.NOT_A_HANDOFF, agent=agent.display_name)
            return
        handoff, _key = found
        about = {"agent": agent.display_name, "handoff": str(handoff.id)}
        if handoff.agent_id != agent.user_id:
            logger.info("%s may not reveal in handoff %s: not the owner", agent.user_id, handoff.id)
            await self._tell(request, Line.PRIVACY_NOT_OWNER, **about)
            return
        messages = [m for m in await self._messages(handoff, request.target) if self._masked(m)]
        if not messages:
            await self._tell(request, Line.PRIVACY_NOTHING_TO_REVEAL, **about)
            return
        conversation = await self._store.get_conversation(handoff.conversation_id)
        await self._log.record(
            PrivacyEvent(
                kind=PrivacyEventKind.REVEALED,
                at=self._clock(),
                actor_id=agent.user_id,
                actor_name=agent.display_name,
                customer_id=conversation.customer_id if conversation else None,
                handoff_id=handoff.id,
                message_ids=tuple(m.id for m in messages),
            )
        )
        logger.info(
            "handoff %s: %s revealed %d message(s)", handoff.id, agent.user_id, len(messages)
        )
        shown = "\n".join(m.text or "" for m in messages)
        await self._tell(request, Line.PRIVACY_REVEALED, **about, messages=shown)

    async def _messages(self, handoff: Handoff, target: str) -> list[StoredMessage]:
        """The customer's messages of the handoff's conversation that ``target`` names."""
        what, _, number = target.partition(":")
        if what == "message" and number.isdigit():
            message = await self._store.get_message(int(number))
            if message is None or message.conversation_id != handoff.conversation_id:
                return []
            return [message]
        if what == "card" and number == str(handoff.id):
            recent = await self._store.recent_messages(
                handoff.conversation_id, limit=self._transcript_lines
            )
            return [m for m in recent if m.created_at <= handoff.requested_at]
        logger.warning("handoff %s: a reveal of %r, which was never offered", handoff.id, target)
        return []

    def _masked(self, message: StoredMessage) -> bool:
        return (
            message.author is Author.CUSTOMER
            and message.text is not None
            and self._masker.mask(message.text).changed
        )

    async def _tell(self, request: RevealRequest, line: Line, **values: str) -> None:
        await self._desk.tell_agent(request.thread, request.agent, self._texts.line(line, **values))
