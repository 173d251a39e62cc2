"""Drafts for agents: after a customer's message is shown in a handoff's thread, Tandem
suggests the bot's answers for the NLU's top intents (placeholders filled from what the
customer wrote), each sent as the agent with one click. Agents can also pick a saved reply
by name.

:class:`DraftingDesk` decorates the agents' desk in the composition root; the engine never
knows. A draft that is sent becomes an ordinary :class:`~handoff.model.AgentReply` of the
agent who clicked, through the intake like a reply typed in Slack (durable, introduced,
claiming the handoff), so nothing here sends anything to a customer.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.approvals import ApprovalGate, ApprovalGrant, DraftPress, Outcome, Press
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.forwarding import ForwardingDesk
from handoff.model import (
    Agent,
    AgentReply,
    Customer,
    CustomerRelay,
    DeskThread,
    Receipt,
)
from handoff.ports import AgentDesk, AgentEventHandler
from handoff.responses import Responses
from nlu.errors import NluError
from nlu.parsing import NluParser, ParseResult

logger = logging.getLogger(__name__)

MAX_DRAFTS = 2  # the top intents that get a draft
MIN_CONFIDENCE = 0.2  # below this, a guess is noise, not a draft
# A reply sent from a draft is stored with one of these before its platform id, so the
# record tells drafted, edited and typed replies apart (nothing else stores it).
DRAFTED, EDITED = "draft-", "edited-"


@dataclass(frozen=True, slots=True)
class Draft:
    intent: str
    text: str
    needs_approval: bool = False  # a human-only topic's: approvers send it (handoff.approvals)


@dataclass(frozen=True, slots=True)
class DraftOffer:
    prompt: str  # what the post says above the drafts (the catalogue's)
    send_label: str
    edit_label: str
    drafts: tuple[Draft, ...]
    approval_note: str = ""  # above a draft needing approval
    request_label: str = ""  # its button asking the approvers


@dataclass(frozen=True, slots=True)
class EditForm:
    """The words of the form an agent edits a draft in."""

    title: str
    field: str
    submit: str


class DraftOffers(Protocol):
    """Where drafts are posted (the Slack adapter implements it)."""

    async def offer_drafts(self, thread: DeskThread, offer: DraftOffer) -> None: ...


def drafts_for(
    parse: ParseResult,
    responses: Responses,
    *,
    values: Mapping[str, str],
    sensitive: Collection[str],
    approvals: bool,
    limit: int = MAX_DRAFTS,
) -> list[Draft]:
    """The bot's answers for the top intents of ``parse`` that have one, best first. An
    intent in ``sensitive`` (a human-only topic) gets a draft needing approval when there
    are approvers (``approvals``), else none: a person answers in their own words."""
    drafts: list[Draft] = []
    for guess in parse.ranking:
        if len(drafts) == limit or guess.confidence < MIN_CONFIDENCE:
            break
        needs_approval = guess.name in sensitive
        if needs_approval and not approvals:
            continue
        reply = responses.for_intent(guess.name, {**values, **_entities(parse)})
        if reply is not None and all(d.text != reply.text for d in drafts):
            drafts.append(Draft(guess.name, reply.text, needs_approval=needs_approval))
    return drafts


def saved_reply(responses: Responses, name: str, *, values: Mapping[str, str]) -> str | None:
    """The replies catalogue's answer named ``name`` (an intent's), for ``/tandem reply``."""
    reply = responses.for_intent(name.strip(), values)
    return None if reply is None else reply.text


def _entities(parse: ParseResult) -> dict[str, str]:
    return {entity.entity: entity.value for entity in parse.entities}


class DraftingDesk(ForwardingDesk):
    """The agents' desk, with drafts under each customer message relayed to a thread.
    ``nlu`` should be the masked one: drafts are posted in Slack."""

    def __init__(
        self,
        *,
        inner: AgentDesk,
        nlu: NluParser,
        responses: Responses,
        offers: DraftOffers,
        texts: AgentTexts,
        sensitive: Collection[str],
        approvals: bool,
    ) -> None:
        super().__init__(inner=inner)
        self._nlu = nlu
        self._responses = responses
        self._offers = offers
        self._texts = texts
        self._sensitive = frozenset(sensitive)
        self._approvals = approvals

    async def relay_to_agents(
        self, thread: DeskThread, message: CustomerRelay, *, customer: Customer
    ) -> str | None:
        posted = await self._inner.relay_to_agents(thread, message, customer=customer)
        if message.text and not message.edited:
            await self._suggest(thread, message.text, customer=customer)
        return posted

    async def relay_many(
        self, thread: DeskThread, messages: Sequence[CustomerRelay], *, customer: Customer
    ) -> list[str]:
        posted = await self._inner.relay_many(thread, messages, customer=customer)
        texts = [m.text for m in messages if m.text and not m.edited]
        if texts:  # one set of drafts, for the newest: what the customer asks now
            await self._suggest(thread, texts[-1], customer=customer)
        return posted

    async def react(self, thread: DeskThread, message_ts: str, receipt: Receipt) -> None:
        if message_ts.startswith((DRAFTED, EDITED)):
            return  # sent from a draft: no message of the agent's in Slack to mark
        await self._inner.react(thread, message_ts, receipt)

    async def _suggest(self, thread: DeskThread, text: str, *, customer: Customer) -> None:
        """Best effort: the customer's message is in the thread; drafts only help."""
        try:
            parse = await self._nlu.parse(text)
            first_name = customer.display_name.split()[0] if customer.display_name else ""
            drafts = drafts_for(
                parse,
                self._responses,
                values={"name": first_name} if first_name else {},
                sensitive=self._sensitive,
                approvals=self._approvals,
            )
            if drafts:
                offer = DraftOffer(
                    prompt=self._texts.line(Line.DRAFTS_OFFER),
                    send_label=self._texts.line(Line.DRAFTS_SEND),
                    edit_label=self._texts.line(Line.DRAFTS_EDIT),
                    drafts=tuple(drafts),
                    approval_note=self._texts.line(Line.DRAFTS_NEEDS_APPROVAL),
                    request_label=self._texts.line(Line.DRAFTS_REQUEST_APPROVAL),
                )
                await self._offers.offer_drafts(thread, offer)
        except (NluError, DeliveryError, DeliveryDeferred) as exc:
            logger.warning("no drafts in thread %s: %s", thread.thread_ts, exc)


@dataclass(frozen=True, slots=True)
class DraftSend:
    thread: DeskThread
    agent: Agent
    text: str
    press_id: str  # unique per click (Slack's action_ts): the reply's platform id
    edited: bool = False  # changed by the agent before it was sent
    post: str = ""  # the post the draft was offered in


class DraftSender:
    """Sends a draft, or a saved reply named by an agent, as the agent: an ordinary reply,
    handed to the intake."""

    def __init__(
        self,
        *,
        replies: AgentEventHandler,
        responses: Responses,
        desk: AgentDesk,
        texts: AgentTexts,
        gate: ApprovalGate,
    ) -> None:
        self._replies = replies
        self._responses = responses
        self._desk = desk
        self._texts = texts
        self._gate = gate

    async def send_draft(self, send: DraftSend) -> str | None:
        """Hand the reply on (raises :class:`~handoff.errors.IntakeUnavailable` when it could
        not be taken); what the draft's post shows instead once it is sent. None when it
        is not sent: it needs an approver (the agent is told)."""
        press = DraftPress(Press.SEND, send.thread, send.agent, send.text, draft_post=send.post)
        if not await self._gate.admit(press):
            return None
        sent_as = f"{EDITED if send.edited else DRAFTED}{send.press_id}"
        await self._replies.agent_reply(AgentReply(send.thread, send.agent, send.text, sent_as))
        return self._texts.line(Line.DRAFTS_SENT, agent=send.agent.display_name, text=send.text)

    async def request_approval(self, send: DraftSend) -> None:
        """Ping the approvers for ``send`` (or tell its agent why not)."""
        press = DraftPress(Press.REQUEST, send.thread, send.agent, send.text, draft_post=send.post)
        await self._gate.admit(press)

    async def decline(self, grant: ApprovalGrant) -> str | None:
        """Record an approver's Decline (nothing is sent); what the ping shows instead, or
        None when ``grant.approver`` may not decline (told so)."""
        press = DraftPress(Press.DECLINE, grant.thread, grant.approver, grant.text)
        if await self._gate.settle(press) is not Outcome.DECLINE:
            return None
        return self._texts.line(
            Line.DRAFTS_DECLINED,
            approver=grant.approver.display_name,
            agent=grant.requester.display_name,
            text=grant.text,
        )

    async def approve(self, grant: ApprovalGrant) -> str | None:
        """Send an approved reply as the agent who asked; what the ping shows instead, or
        None when ``grant.approver`` may not approve (told so)."""
        press = DraftPress(Press.APPROVE, grant.thread, grant.approver, grant.text)
        if not await self._gate.admit(press):
            return None
        sent_as = f"{DRAFTED}{grant.ping_id}"  # the same for every press: sent once
        await self._replies.agent_reply(
            AgentReply(grant.thread, grant.requester, grant.text, sent_as)
        )
        return self._texts.line(
            Line.DRAFTS_APPROVED,
            approver=grant.approver.display_name,
            agent=grant.requester.display_name,
            text=grant.text,
        )

    def edit_form(self) -> EditForm:
        return EditForm(
            title=self._texts.line(Line.DRAFTS_EDIT_TITLE),
            field=self._texts.line(Line.DRAFTS_EDIT_FIELD),
            submit=self._texts.line(Line.DRAFTS_SEND),
        )

    async def send_saved(self, saved: SavedReply) -> str | None:
        """Send the saved reply ``saved.name`` (``/tandem reply NAME``) and tell the thread
        what was sent; None once sent, else what to tell the agent."""
        text = saved_reply(self._responses, saved.name, values={})
        if text is None:
            names = ", ".join(sorted(self._responses.intents))
            return self._texts.line(Line.DRAFTS_NO_SAVED_REPLY, name=saved.name, names=names)
        sent = await self.send_draft(
            DraftSend(thread=saved.thread, agent=saved.agent, text=text, press_id=saved.request_id)
        )
        if sent is None:  # it needs an approver: the agent was told
            return None
        try:
            await self._desk.post_note(saved.thread, sent)
        except (DeliveryError, DeliveryDeferred) as exc:  # the reply is on its way regardless
            logger.warning("could not note a saved reply in %s: %s", saved.thread.thread_ts, exc)
        return None


@dataclass(frozen=True, slots=True)
class SavedReply:
    thread: DeskThread
    agent: Agent
    name: str  # an intent's name in the replies catalogue
    request_id: str  # unique per command (Slack's trigger_id): the reply's platform id
