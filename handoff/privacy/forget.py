"""A customer's ``/forget``: acknowledged, recorded, and put before the agents, who confirm
the erasure (the Erase button) or not. Wraps the engine as the intake sees it, so the
engine never knows: every other event passes through untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from handoff.agent_texts import AgentTexts, Line
from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.intake import CustomerHandler
from handoff.model import (
    Agent,
    ChatType,
    ConversationKey,
    DeskThread,
    Inbound,
    MessageKind,
    Outbound,
)
from handoff.ports import AgentDesk
from handoff.privacy.audit import PrivacyEvent, PrivacyEventKind, PrivacyLog
from handoff.privacy.rights import CustomerRights
from handoff.responses import Responses

logger = logging.getLogger(__name__)

FORGET_COMMAND = "forget"
RECEIVED, DONE = "forget_received", "forget_done"
_ONCE_TTL = 7 * 24 * 3600.0  # a replayed /forget update is not announced twice


@dataclass(frozen=True, slots=True)
class ForgetRequest:
    """What the agents are asked to confirm: erase customer ``customer_id``."""

    customer_id: int
    chat: ConversationKey
    text: str  # the agents' catalogue line
    button: str


class ForgetDesk(Protocol):
    """Puts a /forget request before the agents (the Slack adapter implements it)."""

    async def ask_to_erase(self, request: ForgetRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class EraseConfirmation:
    """An agent pressed Erase under a /forget request."""

    customer_id: int
    agent: Agent
    where: DeskThread  # the request's message, to answer the agent beside it


class ForgetRequests:
    """Implements the intake's :class:`~handoff.intake.CustomerHandler` around ``inner``."""

    def __init__(
        self,
        *,
        inner: CustomerHandler,
        conversations: Conversations,
        log: PrivacyLog,
        desk: ForgetDesk,
        responses: Responses,
        texts: AgentTexts,
    ) -> None:
        for key in (RECEIVED, DONE):
            responses.system(key)  # a missing entry stops the start, not a customer's request
        self._inner = inner
        self._conversations = conversations
        self._log = log
        self._desk = desk
        self._responses = responses
        self._texts = texts

    async def handle(self, inbound: Inbound) -> None:
        if not (
            inbound.kind is MessageKind.COMMAND
            and inbound.command == FORGET_COMMAND
            and inbound.chat_type is ChatType.PRIVATE
        ):
            await self._inner.handle(inbound)
            return
        token = f"forget:{inbound.key}:{inbound.message_id}"
        if not await self._conversations.state.first_time(token, ttl=_ONCE_TTL):
            logger.info("ignoring a repeated /forget update in %s", inbound.key)
            return
        customer = await self._conversations.repository.get_or_create_customer(
            channel=inbound.key.channel,
            platform_user_id=inbound.customer.user_id,
            display_name=inbound.customer.display_name,
            username=inbound.customer.username,
            language_code=inbound.customer.language_code,
        )
        await self._log.record(
            PrivacyEvent(
                kind=PrivacyEventKind.FORGET_REQUESTED, at=utc_now(), customer_id=customer.id
            )
        )
        logger.info("customer %s asked to be forgotten", customer.id)
        await self._conversations.deliver(
            Outbound(key=inbound.key, text=self._responses.system(RECEIVED).text)
        )
        text = self._texts.line(
            Line.PRIVACY_FORGET_REQUESTED, customer=str(customer.id), chat=str(inbound.key)
        )
        await self._desk.ask_to_erase(
            ForgetRequest(
                customer_id=customer.id,
                chat=inbound.key,
                text=text,
                button=self._texts.line(Line.PRIVACY_ERASE_BUTTON),
            )
        )

    async def give_up(self, inbound: Inbound, *, error: str) -> bool:
        return await self._inner.give_up(inbound, error=error)


class Erasures:
    """An agent's confirmation of a /forget request: the customer is erased (rows, live
    state, thread copies and files), then told; the agent is told what was removed."""

    def __init__(
        self,
        *,
        rights: CustomerRights,
        conversations: Conversations,
        desk: AgentDesk,
        responses: Responses,
        texts: AgentTexts,
    ) -> None:
        self._rights = rights
        self._conversations = conversations
        self._desk = desk
        self._responses = responses
        self._texts = texts

    async def confirm(self, confirmation: EraseConfirmation) -> None:
        agent = confirmation.agent
        customer = await self._conversations.repository.get_customer(confirmation.customer_id)
        if customer is None:
            text = self._texts.line(
                Line.PRIVACY_ALREADY_ERASED, customer=str(confirmation.customer_id)
            )
            await self._desk.tell_agent(confirmation.where, agent, text)
            return
        # Private chats only (see ForgetRequests): the chat is the customer's user id.
        chat = ConversationKey(channel=customer.channel, chat_id=customer.platform_user_id)
        report = await self._rights.erase(str(customer.id), actor=agent)
        # Told once it is done; sent, not stored: nothing new about them is kept.
        await self._conversations.deliver(
            Outbound(key=chat, text=self._responses.system(DONE).text)
        )
        text = self._texts.line(
            Line.PRIVACY_ERASED,
            agent=agent.display_name,
            customer=str(customer.id),
            messages=str(report.erased.messages),
            posts=str(report.posts_deleted),
        )
        try:
            await self._desk.tell_agent(confirmation.where, agent, text)
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning(
                "customer %s erased; could not tell %s: %s", customer.id, agent.user_id, exc
            )
