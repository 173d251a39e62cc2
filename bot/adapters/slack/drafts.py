"""Drafts in Slack: the bot's answers posted under a customer's message, each with Send and
Edit. Send hands the draft to the core as the clicking agent's reply
(:class:`handoff.drafts.DraftSender`); Edit opens a modal prefilled with it, whose
submission is sent as edited. The post then says who sent what (so nobody sends it twice).

Implements :class:`handoff.drafts.DraftOffers`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handoff.drafts import DraftOffer, DraftSend, EditForm
from handoff.errors import DeliveryDeferred, DeliveryError, IntakeUnavailable
from handoff.model import DeskThread

from .blocks import SlackMessage, context, plain_section
from .delivery import call
from .escape import escape_mrkdwn, plain_text
from .listening import ClientListener
from .own_posts import OwnPosts
from .reveal import pressed
from .sizing import BUTTON_TEXT_LIMIT, clip

logger = logging.getLogger(__name__)

SEND_DRAFT_ACTION = "tandem_send_draft"
EDIT_DRAFT_ACTION = "tandem_edit_draft"
REQUEST_APPROVAL_ACTION = "tandem_request_approval"
EDIT_VIEW = "tandem_draft_edit"  # the modal's callback id
EDIT_BLOCK, EDIT_FIELD = "draft", "text"
VALUE_LIMIT = 2_000  # Slack's limit for a button's value: longer drafts are not offered
TEXT_LIMIT = 2_000
TITLE_LIMIT = 24  # of a modal's title and its buttons
INPUT_LIMIT = 3_000  # of a plain_text_input's value


class DraftSendHandler(Protocol):
    async def send_draft(self, send: DraftSend) -> str | None: ...

    def edit_form(self) -> EditForm: ...


def offer_post(offer: DraftOffer) -> SlackMessage:
    blocks: list[dict[str, Any]] = [context(plain_text(clip(offer.prompt, TEXT_LIMIT)))]
    for draft in offer.drafts:
        if len(draft.text) > VALUE_LIMIT:
            continue
        send = action_button(offer.send_label, SEND_DRAFT_ACTION, draft.text, style="primary")
        if draft.needs_approval:  # no Edit: an edited reply is the agent's own words
            request = action_button(offer.request_label, REQUEST_APPROVAL_ACTION, draft.text)
            blocks.append(context(plain_text(clip(offer.approval_note, TEXT_LIMIT))))
            buttons = [send, request]
        else:
            buttons = [send, action_button(offer.edit_label, EDIT_DRAFT_ACTION, draft.text)]
        blocks += [
            plain_section(clip(draft.text, TEXT_LIMIT)),
            {"type": "actions", "elements": buttons},
        ]
    return SlackMessage(text=escape_mrkdwn(clip(offer.prompt, TEXT_LIMIT)), blocks=blocks)


def edit_view(
    form: EditForm, draft: str, *, channel: str, thread_ts: str, post_ts: str
) -> dict[str, Any]:
    """The modal an Edit click opens: the draft in a text field; its thread and post kept in
    ``private_metadata`` for the submission."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "title": plain_text(clip(form.title, TITLE_LIMIT), emoji=True),
        "submit": plain_text(clip(form.submit, TITLE_LIMIT), emoji=True),
        "private_metadata": json.dumps(
            {"channel": channel, "thread_ts": thread_ts, "post_ts": post_ts}
        ),
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": plain_text(clip(form.field, TITLE_LIMIT * 2), emoji=True),
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_FIELD,
                    "multiline": True,
                    "initial_value": draft[:INPUT_LIMIT],
                },
            }
        ],
    }


def submitted(view: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """(channel, thread ts, post ts, text) of a submitted edit modal; None for anything
    else."""
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
        text = view["state"]["values"][EDIT_BLOCK][EDIT_FIELD]["value"]
    except (ValueError, KeyError, TypeError):
        return None
    channel, thread_ts, post_ts = meta.get("channel"), meta.get("thread_ts"), meta.get("post_ts")
    if not all(isinstance(x, str) and x for x in (channel, thread_ts, post_ts, text)):
        return None
    return channel, thread_ts, post_ts, text.strip()


def action_ts(body: Mapping[str, Any]) -> str | None:
    actions = body.get("actions") or []
    stamp = actions[0].get("action_ts") if actions and isinstance(actions[0], Mapping) else None
    return stamp if isinstance(stamp, str) else None


def action_button(
    label: str, action_id: str, value: str, *, style: str | None = None
) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": plain_text(clip(label, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": action_id,
        "value": value,
    }
    return {**button, "style": style} if style else button


class DraftListener(ClientListener):
    """Bolt's listeners for Send, Edit and the edit modal; the core's handler is given at
    start."""

    handler: DraftSendHandler | None = None

    async def on_send(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=SEND_DRAFT_ACTION)
            stamp = action_ts(body)
            if press is None or press.thread_ts is None or stamp is None:
                logger.warning("ignored a Send press outside a handoff thread")
                return
            await self._send(
                press.user_id,
                channel=channel,
                thread_ts=press.thread_ts,
                post_ts=press.message_ts,
                text=press.value,
                press_id=stamp,
            )

    async def on_edit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=EDIT_DRAFT_ACTION)
            trigger = body.get("trigger_id")
            if press is None or press.thread_ts is None or not isinstance(trigger, str):
                logger.warning("ignored an Edit press outside a handoff thread")
                return
            if self.handler is None:
                return
            view = edit_view(
                self.handler.edit_form(),
                press.value,
                channel=channel,
                thread_ts=press.thread_ts,
                post_ts=press.message_ts,
            )
            try:
                await call(
                    "the edit modal", lambda: self._client.views_open(trigger_id=trigger, view=view)
                )
            except (DeliveryError, DeliveryDeferred) as exc:
                logger.warning("could not open the edit modal for %s: %s", press.user_id, exc)

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()  # closes the modal
            found = submitted(view)
            user = (body.get("user") or {}).get("id")
            if found is None or not isinstance(user, str) or not found[2]:
                logger.warning("ignored an edit modal's submission without a draft")
                return
            channel, thread_ts, post_ts, text = found
            if channel not in self._channels:
                logger.warning("ignored an edit modal's submission for another channel")
                return
            await self._send(
                user,
                channel=channel,
                thread_ts=thread_ts,
                post_ts=post_ts,
                text=text,
                press_id=f"{view.get('id')}",
                edited=True,
            )

    async def _send(
        self,
        user: str,
        *,
        channel: str,
        thread_ts: str,
        post_ts: str,
        text: str,
        press_id: str,
        edited: bool = False,
    ) -> None:
        if self.handler is None:
            logger.warning("ignored a draft sent before Tandem started")
            return
        agent = await self._agent(user)
        send = DraftSend(
            thread=DeskThread(channel, thread_ts),
            agent=agent,
            text=text,
            press_id=press_id,
            edited=edited,
            post=post_ts,
        )
        try:
            shown = await self.handler.send_draft(send)
        except IntakeUnavailable as exc:  # not taken: the buttons stay for another try
            logger.warning("a draft sent by %s was not taken: %s", user, exc)
            return
        except Exception:  # the top of a listener: the press is answered; log the stack
            logger.exception("sending a draft for %s failed", user)
            return
        if shown is not None:  # None: not sent (it needs an approver), the buttons stay
            await replace_post(self._client, channel, post_ts, shown)


async def replace_post(client: AsyncWebClient, channel: str, ts: str, text: str) -> None:
    """A drafts' post now says who sent what; best effort (the reply is on its way)."""
    try:
        await call(
            f"the drafts {ts}",
            lambda: client.chat_update(
                channel=channel,
                ts=ts,
                text=escape_mrkdwn(clip(text, TEXT_LIMIT)),
                blocks=[context(plain_text(clip(text, TEXT_LIMIT)))],
            ),
        )
    except (DeliveryError, DeliveryDeferred) as exc:
        logger.warning("could not mark the drafts %s as sent: %s", ts, exc)


class SlackDraftOffers:
    def __init__(self, *, posts: OwnPosts) -> None:
        self._posts = posts

    async def offer_drafts(self, thread: DeskThread, offer: DraftOffer) -> None:
        await self._posts.post(
            offer_post(offer),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"drafts in {thread.thread_ts}",
        )
