"""What Slack sent, read as what an agent did: a reply in a handoff thread, a card button,
or a ``/tandem`` command. Pure functions over the payloads Bolt hands the listeners.

Names are looked up afterwards (``users.info`` is a network call); here everything is
decided from the payload alone, including what must never reach a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from handoff.model import AgentCommand, DeskThread

from .cards import CLAIM_ACTION, CLOSE_ACTION, RETRACT_ACTION, RETRY_ACTION, RETURN_ACTION

SLASH_COMMAND = "/tandem"
CARD_ACTIONS: Mapping[str, AgentCommand] = {
    CLAIM_ACTION: AgentCommand.CLAIM,
    RETURN_ACTION: AgentCommand.RETURN,
    CLOSE_ACTION: AgentCommand.CLOSE,
    RETRY_ACTION: AgentCommand.RETRY,
    RETRACT_ACTION: AgentCommand.RETRACT,
}
SUBCOMMANDS: Mapping[str, AgentCommand] = {
    "claim": AgentCommand.CLAIM,
    "release": AgentCommand.RELEASE,
    "return": AgentCommand.RETURN,
    "close": AgentCommand.CLOSE,
    "status": AgentCommand.STATUS,
}
USAGE = (
    f"Usage: `{SLASH_COMMAND} claim|release|return|close|status <thread>`, where <thread> is "
    f"the handoff's number from its card (`#42`) or a link to the thread "
    f"(“Copy link” on the card). For example: `{SLASH_COMMAND} claim #42`."
)
FILES_NOT_RELAYED = (
    "Files are not passed on to the customer, and neither is the text sent with them. "
    "Please send the text on its own."
)

# https://team.slack.com/archives/C0123/p1700000000000100[?thread_ts=...&cid=...]
_PERMALINK = re.compile(
    r"https?://[^/\s]+/archives/(?P<channel>[A-Z0-9]+)/p(?P<digits>\d{7,})(?:\?(?P<query>\S*))?"
)
_HANDOFF_NUMBER = re.compile(r"#?(?P<number>\d{1,18})")
_TS = re.compile(r"\d+\.\d+")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the app is in the workspace, from ``auth.test``."""

    user_id: str
    bot_id: str
    team_id: str
    team_url: str


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """An agent's reply before its author's name and mentions are looked up."""

    thread: DeskThread
    user_id: str
    text: str  # Slack's markup, as sent
    ts: str  # for an edit or a deletion, the change's own ts
    revises: str | None = None  # the ts of the reply edited or deleted
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message that is not a reply to relay, and why; ``notice`` is for its author."""

    reason: str
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonPress:
    thread: DeskThread
    user_id: str
    command: AgentCommand
    handoff_id: str  # the button's value, for the log


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A well-formed ``/tandem`` command; the thread is named by link or by number."""

    command: AgentCommand
    user_id: str
    thread: DeskThread | None = None
    handoff_number: int | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command Tandem cannot act on; ``text`` tells the agent why and what to type."""

    text: str


def classify_message(  # noqa: PLR0911 - one guard per kind of message that is not relayed
    event: Mapping[str, Any],
    *,
    channel: str,
    me: BotIdentity,
    note_prefix: str,
    others: frozenset[str] = frozenset(),
) -> ReplyDraft | Ignored:
    """A person's reply in a thread of the agent channel (or of a route's channel in
    ``others``), or why the event is not one."""
    where = event.get("channel")
    if where != channel and where not in others:
        return Ignored("not in the agent channel")
    subtype = event.get("subtype")
    if subtype in REVISIONS:
        return classify_revision(event, channel=channel, me=me, note_prefix=note_prefix)
    user = event.get("user")
    if user == me.user_id or (me.bot_id and event.get("bot_id") == me.bot_id):
        return Ignored("Tandem's own message")
    if event.get("bot_id") or event.get("bot_profile") or subtype == "bot_message":
        return Ignored("another app's message")
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not isinstance(thread_ts, str) or not isinstance(ts, str) or thread_ts == ts:
        return Ignored("not a reply in a thread")
    if not isinstance(user, str) or not user:
        return Ignored("no author")
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    if is_note(text, note_prefix):
        return Ignored("an internal note")
    if subtype == "file_share":
        return Ignored("a file", notice=FILES_NOT_RELAYED)
    if subtype is not None:
        # message_changed, message_deleted, thread_broadcast, channel_join, ...: an edit or
        # a deletion cannot be undone at the customer's end, and a broadcast is also in the
        # channel, where agents talk among themselves.
        return Ignored(f"a {subtype} event")
    if not text.strip():
        return Ignored("no text")
    return ReplyDraft(thread=DeskThread(str(where), thread_ts), user_id=user, text=text, ts=ts)


REVISIONS = frozenset({"message_changed", "message_deleted"})


def classify_revision(
    event: Mapping[str, Any], *, channel: str, me: BotIdentity, note_prefix: str
) -> ReplyDraft | Ignored:
    """An agent's edit or deletion of a reply in a thread: the reply as it reads now (or as
    it read, when deleted), checked like any reply, and the change's own ts."""
    deleted = event.get("subtype") == "message_deleted"
    inner = event.get("previous_message" if deleted else "message")
    ts = event.get("ts")
    if not isinstance(inner, Mapping) or not isinstance(ts, str):
        return Ignored("a change without its message")
    if not deleted and "edited" not in inner:
        return Ignored("a change that is not an edit (an unfurl, a reaction)")
    previous = event.get("previous_message")
    if not deleted and isinstance(previous, Mapping) and previous.get("text") == inner.get("text"):
        return Ignored("an edit that left the text as it was")
    draft = classify_message(
        {**inner, "channel": event.get("channel")},
        channel=channel,
        me=me,
        note_prefix=note_prefix,
    )
    if isinstance(draft, Ignored):
        return draft
    return replace(draft, ts=ts, revises=draft.ts, deleted=deleted)


def is_note(text: str, prefix: str) -> bool:
    """Whether ``text`` is an internal note: it starts with ``prefix``, ignoring case and
    leading whitespace."""
    return bool(prefix) and text.lstrip().casefold().startswith(prefix.casefold())


def button_press(
    body: Mapping[str, Any], *, channel: str, others: frozenset[str] = frozenset()
) -> ButtonPress | None:
    """The card button pressed in ``body`` (a ``block_actions`` payload), if it is one of
    Tandem's on a card in the agent channel. The card is the thread's parent, so the thread
    is the message the button is on."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], Mapping) else {}
    command = CARD_ACTIONS.get(str(action.get("action_id")))
    container = body.get("container") or {}
    message = body.get("message") or {}
    in_channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    user = (body.get("user") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    ours = in_channel == channel or in_channel in others
    if command is None or not ours or not user or not isinstance(ts, str):
        return None
    # A button on a reply would name its thread's parent; Tandem's cards are parents.
    parent = container.get("thread_ts") or message.get("thread_ts") or ts
    return ButtonPress(
        thread=DeskThread(str(in_channel), str(parent)),
        user_id=str(user),
        command=command,
        handoff_id=str(action.get("value", "")),
    )


def parse_command(  # noqa: PLR0911 - one guard per mistake, each with its own answer
    form: Mapping[str, Any], *, channel: str, others: frozenset[str] = frozenset()
) -> CommandRequest | Refusal:
    """``/tandem <subcommand> <thread>`` as typed in the agent channel (or a route's)."""
    ours = {channel, *others}
    if form.get("channel_id") not in ours:
        return Refusal(f"Please use `{SLASH_COMMAND}` in <#{channel}>, where the handoffs are.")
    words = str(form.get("text") or "").split()
    if not words or words[0].casefold() == "help":
        return Refusal(USAGE)
    command = SUBCOMMANDS.get(words[0].casefold())
    if command is None:
        return Refusal(f"I don't know `{_shown(words[0])}`. {USAGE}")
    if len(words) != 2:
        return Refusal(f"Which conversation? {USAGE}")
    user = str(form.get("user_id") or "")
    reference = words[1]
    number = _HANDOFF_NUMBER.fullmatch(reference)
    if number is not None:
        return CommandRequest(command, user, handoff_number=int(number.group("number")))
    thread = thread_of_permalink(reference)
    if thread is None:
        return Refusal(f"`{_shown(reference)}` is neither a handoff number nor a link. {USAGE}")
    if thread.channel not in ours:
        return Refusal(f"That link is not to a handoff in <#{channel}>. {USAGE}")
    return CommandRequest(command, user, thread=thread)


def thread_of_permalink(text: str) -> DeskThread | None:
    """The thread a message link points into: the message itself, or for a link to a reply
    (``?thread_ts=``) its parent. Slack may send a link wrapped as ``<url>`` or ``<url|label>``."""
    link = text.strip().removeprefix("<").removesuffix(">").split("|", 1)[0]
    match = _PERMALINK.fullmatch(link)
    if match is None:
        return None
    digits = match.group("digits")
    ts = f"{digits[:-6]}.{digits[-6:]}"
    query = parse_qs(match.group("query") or "")
    parent = query.get("thread_ts", [ts])[0]
    if not _TS.fullmatch(parent):
        return None
    return DeskThread(channel=match.group("channel"), thread_ts=parent)


def _shown(word: str) -> str:
    """An agent's word quoted back inside a mrkdwn code span: short, entity-escaped, and
    without backticks that would end the span."""
    quoted = word[:40].replace("`", "'")
    return quoted.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
