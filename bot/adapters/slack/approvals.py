"""Approval for sensitive topics in Slack (:mod:`handoff.approvals`): who the approvers are
(``agents.approvers``: user ids, user group ids or handles; a group's members are asked of
Slack, ``usergroups.users.list``, and kept for a minute), their ping in a handoff's thread
with an Approve button, and the presses of Request approval and Approve.

Implements :class:`handoff.approvals.Approvers`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.approvals import ApprovalGrant, ApprovalPing
from handoff.drafts import DraftSend
from handoff.errors import DeliveryError, IntakeUnavailable
from handoff.model import DeskThread

from .blocks import SlackMessage, mrkdwn_section
from .delivery import call, web_client
from .drafts import (
    REQUEST_APPROVAL_ACTION,
    action_button,
    action_ts,
    replace_post,
)
from .escape import escape_mrkdwn
from .ladder import mention
from .listening import ClientListener
from .own_posts import OwnPosts
from .reach import CHECK
from .reveal import pressed
from .sizing import clip

logger = logging.getLogger(__name__)

APPROVE_ACTION = "tandem_approve_draft"
DECLINE_ACTION = "tandem_decline_draft"
MEMBERS_KEPT_FOR = 60.0  # seconds a user group's members are trusted without asking again
TEXT_LIMIT = 2_000


class ApprovalHandler(Protocol):
    async def request_approval(self, send: DraftSend) -> None: ...

    async def approve(self, grant: ApprovalGrant) -> str | None: ...

    async def decline(self, grant: ApprovalGrant) -> str | None: ...


class SlackApprovers:
    """``approvers``: user ids (U..., W...), user group ids (S...) and handles (@name)."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        approvers: tuple[str, ...],
        posts: OwnPosts | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``posts``: how the pings are posted (paced with Tandem's other posts; unpaced
        when not given)."""
        self._client = client
        self._posts = posts or OwnPosts(client=client)
        self._users = frozenset(a for a in approvers if a[0] in "UW")
        self._groups = tuple(a for a in approvers if a[0] in "S@")
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}  # group id -> (until, ids)
        self._handles: dict[str, str] = {}  # @handle -> group id

    async def is_approver(self, user_id: str) -> bool:
        if user_id in self._users:
            return True
        for group in self._groups:
            if user_id in await self._group_members(await self._group_id(group)):
                return True
        return False

    async def ping_approvers(self, thread: DeskThread, ping: ApprovalPing) -> None:
        mentions = [mention(await self._group_id(g)) for g in self._groups]
        mentions += [mention(user) for user in sorted(self._users)]
        value = json.dumps({"text": ping.draft, "by": ping.requester, "post": ping.draft_post})
        line = f"{' '.join(mentions)} {escape_mrkdwn(clip(ping.text, TEXT_LIMIT))}"
        blocks = [
            mrkdwn_section(line),
            {
                "type": "actions",
                "elements": [
                    action_button(ping.button, APPROVE_ACTION, value, style="primary"),
                    action_button(ping.decline, DECLINE_ACTION, value),
                ],
            },
        ]
        await self._posts.post(
            SlackMessage(text=line, blocks=blocks),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"the approvers' ping in {thread.thread_ts}",
        )

    async def unresolved(self) -> dict[str, str]:
        """Per user group Slack will not list the members of, why (``tandem config check``)."""
        problems: dict[str, str] = {}
        for group in self._groups:
            try:
                await self._group_members(await self._group_id(group))
            except DeliveryError as exc:
                problems[group] = str(exc)
        return problems

    async def _group_id(self, group: str) -> str:
        if not group.startswith("@"):
            return group
        if group not in self._handles:
            answer = await call("the user groups", self._client.usergroups_list)
            for found in answer.get("usergroups") or []:
                self._handles[f"@{found.get('handle')}"] = str(found.get("id"))
            if group not in self._handles:
                raise DeliveryError(f"Slack has no user group {group}")
        return self._handles[group]

    async def _group_members(self, group_id: str) -> frozenset[str]:
        until, members = self._members.get(group_id, (0.0, frozenset()))
        if self._clock() < until:
            return members
        answer = await call(
            f"the members of {group_id}",
            lambda: self._client.usergroups_users_list(usergroup=group_id),
        )
        members = frozenset(str(user) for user in answer.get("users") or [])
        self._members[group_id] = (self._clock() + MEMBERS_KEPT_FOR, members)
        return members


async def unresolved_approvers(
    *, token: str, api_url: str, approvers: tuple[str, ...]
) -> dict[str, str]:
    """Per approver user group whose members cannot be had, why."""
    client = web_client(token=token, api_url=api_url, policy=CHECK)
    return await SlackApprovers(client=client, approvers=approvers).unresolved()


class ApprovalListener(ClientListener):
    """Bolt's listeners for Request approval and Approve, in the agent channel and the
    routes'; the core's handler is given at start."""

    handler: ApprovalHandler | None = None

    async def on_request(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=REQUEST_APPROVAL_ACTION)
            stamp = action_ts(body)
            if press is None or press.thread_ts is None or stamp is None or self.handler is None:
                logger.warning("ignored a Request approval press outside a handoff thread")
                return
            agent = await self._agent(press.user_id)
            send = DraftSend(
                thread=DeskThread(channel, press.thread_ts),
                agent=agent,
                text=press.value,
                press_id=stamp,
                post=press.message_ts,
            )
            try:
                await self.handler.request_approval(send)
            except Exception:  # the top of a listener: the press is answered; log the stack
                logger.exception("asking approval for %s failed", press.user_id)

    async def on_approve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._answer(ack, body, action_id=APPROVE_ACTION)

    async def on_decline(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._answer(ack, body, action_id=DECLINE_ACTION)

    async def _answer(self, ack: AsyncAck, body: dict[str, Any], *, action_id: str) -> None:
        """An approver's answer to a request (Approve or Decline)."""
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=action_id)
            asked = approval_asked(press.value) if press is not None else None
            if press is None or press.thread_ts is None or asked is None or self.handler is None:
                logger.warning("ignored a %s press outside a handoff thread", action_id)
                return
            text, requester, draft_post = asked
            grant = ApprovalGrant(
                thread=DeskThread(channel, press.thread_ts),
                approver=await self._agent(press.user_id),
                requester=await self._agent(requester),
                text=text,
                ping_id=press.message_ts,
            )
            approving = action_id == APPROVE_ACTION
            try:
                shown = await (self.handler.approve if approving else self.handler.decline)(grant)
            except IntakeUnavailable as exc:  # not taken: the button stays for another try
                logger.warning("an approved draft was not taken: %s", exc)
                return
            except Exception:  # the top of a listener: the press is answered; log the stack
                logger.exception("answering a request for %s failed", press.user_id)
                return
            if shown is None:
                return
            # Approved: the drafts' post goes too (nobody sends it again); declined: the
            # drafts stay (the agent may answer in their own words, or ask again).
            for ts in (
                (press.message_ts, draft_post) if approving and draft_post else (press.message_ts,)
            ):
                await replace_post(self._client, channel, ts, shown)


def approval_asked(value: str) -> tuple[str, str, str] | None:
    """(draft text, requester's user id, the drafts' post ts) of an Approve's value."""
    try:
        found = json.loads(value)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    text, requester, post = found.get("text"), found.get("by"), found.get("post")
    if not (isinstance(text, str) and text and isinstance(requester, str) and requester):
        return None
    return text, requester, post if isinstance(post, str) else ""
