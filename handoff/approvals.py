"""Approval for sensitive topics: a draft answering a human-only topic
(``policy.human_only_intents``) may be sent only by an approver (``agents.approvers``).
Any other agent asks for approval, which pings the approvers in the thread; an approver's
Approve sends it as the agent who asked (one click), and an approver's own Send sends it
as themselves; an approver's Decline closes the request unsent. Every request, approval,
decline and refusal goes into the handoff's audit trail.

The rule is enforced here, whatever button a press claims to come from: whether a text
needs approval is decided from the text itself (it is the bot's answer to a human-only
topic, placeholders filled), not from the post it was offered in.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.audit import record_event
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import Agent, DeskThread
from handoff.ports import AgentDesk
from handoff.records import HandoffEventKind
from handoff.store import ConversationStore

logger = logging.getLogger(__name__)


class Press(StrEnum):
    SEND = "send"  # Send (or an edited draft's submission)
    REQUEST = "request"  # Request approval
    APPROVE = "approve"  # Approve, on the approvers' ping
    DECLINE = "decline"  # Decline, on the approvers' ping


class Outcome(StrEnum):
    SEND = "send"  # no approval needed: send it
    SEND_APPROVED = "send_approved"  # an approver sends or approves it: record, then send
    ASK_APPROVERS = "ask_approvers"  # record the request and ping the approvers
    REFUSE = "refuse"  # not an approver: record the refusal, tell the agent
    DECLINE = "decline"  # an approver declines the request: record it, send nothing
    APPROVER_SENDS = "approver_sends"  # an approver asked: they may send it themselves
    NOT_NEEDED = "not_needed"  # approval asked for a text that needs none


def decide(press: Press, *, sensitive: bool, approver: bool) -> Outcome:
    """What a press of an agent does to a draft. The whole rule, pure."""
    if press is Press.APPROVE:
        return Outcome.SEND_APPROVED if approver else Outcome.REFUSE
    if press is Press.DECLINE:
        return Outcome.DECLINE if approver else Outcome.REFUSE
    if press is Press.REQUEST:
        if approver:
            return Outcome.APPROVER_SENDS
        return Outcome.ASK_APPROVERS if sensitive else Outcome.NOT_NEEDED
    if not sensitive:
        return Outcome.SEND
    return Outcome.SEND_APPROVED if approver else Outcome.REFUSE


def template_pattern(template: str) -> re.Pattern[str]:
    """A reply template as a pattern of its filled texts: each placeholder matches any
    text (what the customer wrote fills it)."""
    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(".*?")
    return re.compile("".join(parts), re.DOTALL)


class SensitiveTexts:
    """Tells whether a text is the bot's answer to a human-only topic."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._patterns = tuple(template_pattern(t) for t in templates)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and any(p.fullmatch(text.strip()) for p in self._patterns)


class Approvers(Protocol):
    """Who the approvers are, and how they are pinged (the Slack adapter implements it)."""

    async def is_approver(self, user_id: str) -> bool:
        """Raises :class:`~handoff.errors.DeliveryError` when it cannot be told."""
        ...

    async def ping_approvers(self, thread: DeskThread, ping: ApprovalPing) -> None:
        """Post ``ping`` in ``thread``, mentioning the approvers, with an Approve button."""
        ...


@dataclass(frozen=True, slots=True)
class ApprovalPing:
    text: str  # what the ping says (the catalogue's), the mentions go in front
    button: str  # Approve's label
    decline: str  # Decline's label
    draft: str  # the reply to approve
    requester: str  # the user id of the agent who asked
    draft_post: str  # the post the draft was offered in (replaced once it is sent)


@dataclass(frozen=True, slots=True)
class DraftPress:
    """An agent's press on a draft: ``text`` is the reply, ``agent`` who pressed."""

    press: Press
    thread: DeskThread
    agent: Agent
    text: str
    draft_post: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalGrant:
    """An approver's Approve (``text`` is sent as ``requester``, the agent who asked) or
    Decline."""

    thread: DeskThread
    approver: Agent
    requester: Agent
    text: str
    ping_id: str  # the approvers' ping: the reply's platform id (sent once, however pressed)


class ApprovalGate:
    """Applies :func:`decide` to presses: records and pings; says whether to send."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        approvers: Approvers,
        sensitive: SensitiveTexts,
        desk: AgentDesk,
        texts: AgentTexts,
    ) -> None:
        self._store = store
        self._approvers = approvers
        self._sensitive = sensitive
        self._desk = desk
        self._texts = texts

    def needs_approval(self, text: str) -> bool:
        return text in self._sensitive

    async def admit(self, press: DraftPress) -> bool:
        """True when the press sends its reply now (approval recorded where it takes one);
        False when it does not, the agent told why and the thread pinged as it should be."""
        return await self.settle(press) in {Outcome.SEND, Outcome.SEND_APPROVED}

    async def settle(self, press: DraftPress) -> Outcome | None:
        """Apply the rule to ``press``: record, ping and tell as its outcome says, and
        return that outcome; None when nothing could be decided (the agent told why)."""
        sensitive = self.needs_approval(press.text)
        if press.press is Press.SEND and not sensitive:
            return Outcome.SEND  # nobody's role matters: Slack is not asked
        agent = press.agent
        try:
            approver = await self._approvers.is_approver(agent.user_id)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not tell whether %s approves: %s", agent.user_id, exc)
            await self._tell(press, Line.DRAFTS_APPROVERS_UNKNOWN)
            return None
        outcome = decide(press.press, sensitive=sensitive, approver=approver)
        if outcome is Outcome.APPROVER_SENDS:
            await self._tell(press, Line.DRAFTS_APPROVER_SENDS)
        elif outcome is Outcome.NOT_NEEDED:
            await self._tell(press, Line.DRAFTS_NO_APPROVAL_NEEDED)
        elif not await self._record(press, outcome):  # the rest is recorded
            return None
        elif outcome is Outcome.REFUSE:
            on_ping = press.press in {Press.APPROVE, Press.DECLINE}
            await self._tell(
                press, Line.DRAFTS_CANNOT_APPROVE if on_ping else Line.DRAFTS_NEEDS_APPROVER
            )
        elif outcome is Outcome.ASK_APPROVERS:
            await self._ping(press)
        return outcome

    async def _record(self, press: DraftPress, outcome: Outcome) -> bool:
        """The audit entry of ``outcome``; False (the agent told) outside a handoff."""
        found = await self._store.locate_thread(
            agent_channel=press.thread.channel, thread_ts=press.thread.thread_ts
        )
        if found is None:
            await self._tell(press, Line.NOT_A_HANDOFF)
            return False
        kind = {
            Outcome.SEND_APPROVED: HandoffEventKind.APPROVED,
            Outcome.ASK_APPROVERS: HandoffEventKind.APPROVAL_REQUESTED,
            Outcome.REFUSE: HandoffEventKind.APPROVAL_REFUSED,
            Outcome.DECLINE: HandoffEventKind.APPROVAL_REFUSED,  # by an approver: "decline"
        }[outcome]
        await record_event(
            self._store,
            found[0],
            kind,
            press.agent,
            # The outcome tells a refusal (not an approver) from an approver's decline.
            detail={"press": press.press, "outcome": outcome, "text": press.text},
        )
        logger.info("handoff %s: %s by %s", found[0].id, kind, press.agent.user_id)
        return True

    async def _ping(self, press: DraftPress) -> None:
        ping = ApprovalPing(
            text=self._texts.line(
                Line.DRAFTS_APPROVAL_REQUESTED, agent=press.agent.display_name, text=press.text
            ),
            button=self._texts.line(Line.DRAFTS_APPROVE),
            decline=self._texts.line(Line.DRAFTS_DECLINE),
            draft=press.text,
            requester=press.agent.user_id,
            draft_post=press.draft_post,
        )
        try:
            await self._approvers.ping_approvers(press.thread, ping)
        except (DeliveryError, DeliveryDeferred) as exc:  # recorded; the agent can ask again
            logger.warning("could not ping the approvers in %s: %s", press.thread.thread_ts, exc)
            await self._tell(press, Line.DRAFTS_APPROVERS_UNKNOWN)

    async def _tell(self, press: DraftPress, line: Line) -> None:
        text = self._texts.line(line, agent=press.agent.display_name)
        await self._desk.tell_agent(press.thread, press.agent, text)
