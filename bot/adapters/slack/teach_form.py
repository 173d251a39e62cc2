"""The teaching form in Slack: a modal with the message to label, the model's intents (its
top guesses first, out of scope last) and a field for a new intent's name. Opened by the
"Teach the bot this" message shortcut or by the button under a teaching offer; what it
holds on submission is read here. On a post that shows several customer messages (merged
by the pacing) the form asks which of them is taught, in place of the message's text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handoff.teaching_model import TeachForm

from .blocks import plain_section
from .escape import plain_text
from .sizing import clip

TEACH_SHORTCUT = "tandem_teach_message"  # the message shortcut's callback id (the manifest's)
TEACH_OTHER_ACTION = "tandem_teach_other"  # the button under an offer
TEACH_VIEW = "tandem_teach_form"  # the modal's callback id
PICK_BLOCK, PICK_FIELD = "pick", "intent"
MESSAGE_BLOCK, MESSAGE_FIELD = "message", "which"  # the choice among a post's messages
MAX_RADIO = 10  # Slack's limit for radio buttons: more messages are chosen in a list
NEW_BLOCK, NEW_FIELD = "new", "name"
MAX_OPTIONS = 100  # Slack's limit for a static_select
OPTION_TEXT_LIMIT = 75
TITLE_LIMIT = 24  # of a modal's title and its buttons
LABEL_LIMIT = 2_000
TEXT_LIMIT = 2_000
NAME_LIMIT = 64  # an intent name's (handoff.lessons.INTENT_NAME)


@dataclass(frozen=True, slots=True)
class Filled:
    """A submitted teaching form: where its message is, and what the agent chose."""

    channel: str
    thread_ts: str
    message_id: int  # 0: a post of several messages, none chosen
    picked: str  # "" when nothing was picked
    typed: str  # the new intent's name, trimmed; "" when none


def form_view(form: TeachForm) -> dict[str, Any]:
    """The modal for ``form``; its thread and message kept in ``private_metadata``."""
    offer = form.offer
    options = [
        {"text": plain_text(clip(intent, OPTION_TEXT_LIMIT)), "value": intent}
        for intent in offer.choices[:MAX_OPTIONS]
    ]
    meta = {
        "channel": form.thread.channel,
        "thread_ts": form.thread.thread_ts,
        "message_id": 0 if form.merged else offer.message_id,
    }
    pick = {"type": "static_select", "action_id": PICK_FIELD, "options": options}
    new = {"type": "plain_text_input", "action_id": NEW_FIELD, "max_length": NAME_LIMIT}
    return {
        "type": "modal",
        "callback_id": TEACH_VIEW,
        "title": plain_text(clip(form.title, TITLE_LIMIT), emoji=True),
        "submit": plain_text(clip(form.submit, TITLE_LIMIT), emoji=True),
        "private_metadata": json.dumps(meta),
        "blocks": [
            _which(form) if form.merged else plain_section(clip(offer.text, TEXT_LIMIT)),
            _input(PICK_BLOCK, offer.label, pick),
            {**_input(NEW_BLOCK, form.new, new), "hint": plain_text(clip(form.hint, LABEL_LIMIT))},
        ],
    }


def _which(form: TeachForm) -> dict[str, Any]:
    """The choice among the messages of a merged post, each by its (clipped) text."""
    options = [
        {"text": plain_text(clip(text, OPTION_TEXT_LIMIT)), "value": str(message_id)}
        for message_id, text in form.merged[:MAX_OPTIONS]
    ]
    kind = "radio_buttons" if len(options) <= MAX_RADIO else "static_select"
    element = {"type": kind, "action_id": MESSAGE_FIELD, "options": options}
    return _input(MESSAGE_BLOCK, form.which, element, optional=False)


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = True
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain_text(clip(label, LABEL_LIMIT), emoji=True),
        "element": element,
    }


def filled(view: Mapping[str, Any]) -> Filled | None:
    """What a submitted teaching form holds; None for anything else."""
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
        values = view["state"]["values"]
        selected = values.get(PICK_BLOCK, {}).get(PICK_FIELD, {}).get("selected_option") or {}
        typed = values.get(NEW_BLOCK, {}).get(NEW_FIELD, {}).get("value") or ""
        which = values.get(MESSAGE_BLOCK, {}).get(MESSAGE_FIELD, {}).get("selected_option")
        channel, thread_ts, message_id = meta["channel"], meta["thread_ts"], meta["message_id"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    picked = selected.get("value") if isinstance(selected, Mapping) else None
    chosen = which.get("value") if isinstance(which, Mapping) else None
    if message_id == 0 and isinstance(chosen, str) and chosen.isdigit():
        message_id = int(chosen)  # the message chosen among a merged post's
    if not (
        isinstance(channel, str)
        and isinstance(thread_ts, str)
        and isinstance(message_id, int)
        and isinstance(typed, str)
    ):
        return None
    return Filled(
        channel=channel,
        thread_ts=thread_ts,
        message_id=message_id,
        picked=picked if isinstance(picked, str) else "",
        typed=typed.strip(),
    )


def shortcut_on(body: Mapping[str, Any]) -> tuple[str, str, str, str, str] | None:
    """(user, channel, thread ts, message ts, trigger id) of a message shortcut; a message
    outside a thread is its own thread's parent. None for anything else."""
    message = body.get("message") or {}
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    ts = message.get("ts") if isinstance(message, Mapping) else None
    trigger = body.get("trigger_id")
    if not all(isinstance(x, str) and x for x in (user, channel, ts, trigger)):
        return None
    thread_ts = message.get("thread_ts") or ts
    return str(user), str(channel), str(thread_ts), str(ts), str(trigger)
