"""Teaching the bot in Slack: under a failed customer turn, a list of the model's intents
(its top guesses first) and a button to the teaching form (another or a new intent); the
"Teach the bot this" message shortcut opens the same form on any customer message in a
handoff's thread. What an agent picks is handed to the core
(:class:`handoff.teaching.Teacher`), which stores the lesson and tells the thread.

Implements :class:`handoff.teaching.TeachOffers`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from handoff.errors import DeliveryDeferred, DeliveryError
from handoff.model import Agent, DeskThread
from handoff.teaching_model import TeachForm, TeachOffer, TeachRequest

from .blocks import SlackMessage, context, plain_section
from .delivery import call
from .escape import escape_mrkdwn, plain_text
from .listening import ClientListener
from .own_posts import OwnPosts
from .reveal import pressed
from .sizing import BUTTON_TEXT_LIMIT, clip
from .teach_form import (
    MAX_OPTIONS,
    MESSAGE_BLOCK,
    NEW_BLOCK,
    OPTION_TEXT_LIMIT,
    PICK_BLOCK,
    TEACH_OTHER_ACTION,
    Filled,
    filled,
    form_view,
    shortcut_on,
)

logger = logging.getLogger(__name__)

TEACH_ACTION = "tandem_teach"
PLACEHOLDER_LIMIT = 150
TEXT_LIMIT = 2_000


class TeachHandler(Protocol):
    async def teach(self, request: TeachRequest) -> object: ...

    async def form(
        self, thread: DeskThread, agent: Agent, *, post_ts: str = "", message_id: int = 0
    ) -> TeachForm | str: ...

    def name_problem(self, name: str) -> str | None: ...

    def choose_one(self) -> str: ...

    def choose_message(self) -> str: ...


def offer_post(offer: TeachOffer) -> SlackMessage:
    options = [
        {
            "text": plain_text(clip(intent, OPTION_TEXT_LIMIT), emoji=False),
            "value": f"{offer.message_id}:{intent}",
        }
        for intent in offer.choices[:MAX_OPTIONS]
    ]
    picker = {
        "type": "static_select",
        "action_id": TEACH_ACTION,
        "placeholder": plain_text(clip(offer.label, PLACEHOLDER_LIMIT), emoji=True),
        "options": options,
    }
    other = {
        "type": "button",
        "text": plain_text(clip(offer.other, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": TEACH_OTHER_ACTION,
        "value": str(offer.message_id),
    }
    return SlackMessage(
        text=escape_mrkdwn(clip(f"{offer.prompt} {offer.text}", TEXT_LIMIT)),
        blocks=[
            context(plain_text(clip(offer.prompt, TEXT_LIMIT))),
            plain_section(clip(offer.text, TEXT_LIMIT)),
            {"type": "actions", "elements": [picker, other]},
        ],
    )


def picked(
    body: Mapping[str, Any], *, channels: frozenset[str]
) -> tuple[str, str, str, int, str] | None:
    """(user, channel, thread, message id, intent) of an option picked in a teaching offer
    in one of ``channels``; None for anything else."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], Mapping) else {}
    container = body.get("container") or {}
    selected = action.get("selected_option") or {}
    value = selected.get("value") if isinstance(selected, Mapping) else None
    user = (body.get("user") or {}).get("id")
    thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    number, _, intent = value.partition(":") if isinstance(value, str) else ("", "", "")
    if (
        action.get("action_id") != TEACH_ACTION
        or container.get("channel_id") not in channels
        or not isinstance(user, str)
        or not isinstance(thread_ts, str)
        or not number.isdigit()
        or not intent
    ):
        return None
    return user, str(container["channel_id"]), thread_ts, int(number), intent


class TeachListener(ClientListener):
    """Bolt's listeners for the intent picked in an offer, the shortcut and the button that
    open the teaching form, and its submission; the core's handler is given at start."""

    handler: TeachHandler | None = None

    async def on_teach(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async with self._inflight.track():
            await ack()
            choice = picked(body, channels=self._channels)
            if choice is None or self.handler is None:
                logger.warning("ignored a teaching pick (outside a handoff thread, or too early)")
                return
            user, channel, thread_ts, message_id, intent = choice
            agent = await self._agent(user)
            request = TeachRequest(
                thread=DeskThread(channel, thread_ts),
                agent=agent,
                message_id=message_id,
                intent=intent,
            )
            await self._teach(request)

    async def on_shortcut(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """ "Teach the bot this" on a message: the form, or the agent told why not (the core
        finds no handoff in a channel that is not Tandem's)."""
        async with self._inflight.track():
            await ack()
            found = shortcut_on(body)
            if found is None or self.handler is None:
                logger.warning("ignored a teaching shortcut (malformed, or too early)")
                return
            user, channel, thread_ts, ts, trigger = found
            thread = DeskThread(channel if channel in self._channels else "", thread_ts)
            form = await self.handler.form(thread, await self._agent(user), post_ts=ts)
            await self._open(form, trigger, respond)

    async def on_other(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """The button under an offer: the form for its message."""
        async with self._inflight.track():
            await ack()
            channel = self._where(body)
            press = pressed(body, channel=channel, action_id=TEACH_OTHER_ACTION)
            trigger = body.get("trigger_id")
            if (
                press is None
                or press.thread_ts is None
                or not press.value.isdigit()
                or not isinstance(trigger, str)
                or self.handler is None
            ):
                logger.warning("ignored a press for the teaching form outside a handoff thread")
                return
            thread = DeskThread(channel, press.thread_ts)
            agent = await self._agent(press.user_id)
            form = await self.handler.form(thread, agent, message_id=int(press.value))
            await self._open(form, trigger, respond)

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The form submitted: refused in place when it names no intent, two, or a new
        one that cannot be; otherwise closed and taught."""
        async with self._inflight.track():
            form = filled(view)
            user = (body.get("user") or {}).get("id")
            if form is None or not isinstance(user, str) or self.handler is None:
                await ack()
                logger.warning("ignored a teaching form's submission without its message")
                return
            errors = self._problems(self.handler, form)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            if form.channel not in self._channels:
                logger.warning("ignored a teaching form's submission for another channel")
                return
            request = TeachRequest(
                thread=DeskThread(form.channel, form.thread_ts),
                agent=await self._agent(user),
                message_id=form.message_id,
                intent=form.picked or form.typed,
            )
            await self._teach(request)

    @staticmethod
    def _problems(handler: TeachHandler, form: Filled) -> dict[str, str]:
        """The form's errors, by block: one intent exactly, a new one must be valid, and a
        merged post's form names the message taught."""
        errors = {MESSAGE_BLOCK: handler.choose_message()} if form.message_id == 0 else {}
        if bool(form.picked) == bool(form.typed):
            return {**errors, PICK_BLOCK: handler.choose_one()}
        problem = handler.name_problem(form.typed) if form.typed else None
        return {**errors, NEW_BLOCK: problem} if problem else errors

    async def _open(self, form: TeachForm | str, trigger: str, respond: AsyncRespond) -> None:
        """Open ``form``, or tell the agent (only them) why there is none."""
        if isinstance(form, str):
            try:
                await respond(text=form, response_type="ephemeral", replace_original=False)
            except Exception:  # the top of a listener: the request is answered; log the stack
                logger.exception("could not tell an agent why there is no teaching form")
            return
        view = form_view(form)
        try:
            await call(
                "the teaching form", lambda: self._client.views_open(trigger_id=trigger, view=view)
            )
        except (DeliveryError, DeliveryDeferred) as exc:
            logger.warning("could not open the teaching form: %s", exc)

    async def _teach(self, request: TeachRequest) -> None:
        assert self.handler is not None  # checked by every caller
        try:
            await self.handler.teach(request)
        except Exception:  # the top of a listener: the pick is answered; log the stack
            logger.exception(
                "teaching message %s by %s failed", request.message_id, request.agent.user_id
            )


class SlackTeachOffers:
    def __init__(self, *, posts: OwnPosts) -> None:
        self._posts = posts

    async def offer_teaching(self, thread: DeskThread, offer: TeachOffer) -> None:
        await self._posts.post(
            offer_post(offer),
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            what=f"a teaching offer in {thread.thread_ts}",
        )
