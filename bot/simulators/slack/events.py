"""Builders of what Slack sends to an app: Events API bodies, interactivity payloads and
slash-command forms, shaped like Slack's own (fields an app may read are all present).

Pure functions; :mod:`.sender` signs and POSTs them, :mod:`.socket_mode` wraps them in
envelopes. Message ``ts`` values default to a process-wide increasing clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from bot.simulators.slack import defaults
from bot.simulators.slack.records import TimestampClock

JsonDict = dict[str, Any]

# The simulator serves response URLs at this route; "-" stands for "no original message".
RESPONSE_URL_ROUTE = "/response/{channel}/{message_ts}/{nonce}"

_clock = TimestampClock()


def next_ts() -> str:
    return _clock.next()


def response_url(base: str, *, channel: str, message_ts: str | None = None) -> str:
    """A ``response_url`` on the simulator whose ``base`` is ``SlackSimulator.response_url_base``;
    it names the message so ``replace_original`` and ``delete_original`` can act on it."""
    return f"{base}{channel}/{message_ts or '-'}/{uuid.uuid4().hex}"


def _rich_text(text: str) -> list[JsonDict]:
    """The block Slack's clients attach to every message a person types."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def user_message_event(
    *,
    channel: str,
    user: str,
    text: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    channel_type: str = "channel",
) -> JsonDict:
    """A person's message; with ``thread_ts`` a reply in that thread."""
    ts = ts or next_ts()
    event: JsonDict = {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "user": user,
        "text": text,
        "blocks": _rich_text(text),
        "team": defaults.TEAM_ID,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


def bot_message_event(
    *,
    channel: str,
    bot_id: str,
    text: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    username: str = "other-bot",
    channel_type: str = "channel",
) -> JsonDict:
    """A message by an integration (``subtype: bot_message``). Bolt drops the app's own
    messages, so pass a ``bot_id`` other than ``defaults.BOT_ID`` to reach a handler."""
    ts = ts or next_ts()
    event: JsonDict = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": bot_id,
        "username": username,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def thread_broadcast_event(
    *,
    channel: str,
    user: str,
    text: str,
    thread_ts: str,
    ts: str | None = None,
    channel_type: str = "channel",
) -> JsonDict:
    """A reply that was also sent to the channel ("Also send to #channel")."""
    event = user_message_event(
        channel=channel, user=user, text=text, ts=ts, thread_ts=thread_ts, channel_type=channel_type
    )
    event["subtype"] = "thread_broadcast"
    event["root"] = {"type": "message", "ts": thread_ts, "thread_ts": thread_ts}
    return event


def _as_nested(message: Mapping[str, Any]) -> JsonDict:
    """Inside ``message_changed``/``message_deleted`` the message carries no channel fields."""
    skipped = ("channel", "channel_type", "event_ts")
    return {key: value for key, value in message.items() if key not in skipped}


def message_changed_event(
    original: Mapping[str, Any], *, text: str, ts: str | None = None
) -> JsonDict:
    """``original`` (a message event from the builders above) edited to read ``text``."""
    ts = ts or next_ts()
    previous = _as_nested(original)
    changed = {**previous, "text": text, "edited": {"user": original.get("user"), "ts": ts}}
    if "blocks" in previous:
        changed["blocks"] = _rich_text(text)
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": changed,
        "previous_message": previous,
        "channel": original["channel"],
        "ts": ts,
        "event_ts": ts,
        "channel_type": original.get("channel_type", "channel"),
    }


def message_deleted_event(original: Mapping[str, Any], *, ts: str | None = None) -> JsonDict:
    ts = ts or next_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": original["ts"],
        "previous_message": _as_nested(original),
        "channel": original["channel"],
        "ts": ts,
        "event_ts": ts,
        "channel_type": original.get("channel_type", "channel"),
    }


def event_callback_body(
    event: Mapping[str, Any],
    *,
    event_id: str | None = None,
    team_id: str = defaults.TEAM_ID,
    api_app_id: str = defaults.APP_ID,
) -> JsonDict:
    """The Events API envelope; ``authorizations`` names the bot, as for a single workspace."""
    return {
        "token": defaults.VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": defaults.BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def url_verification_body(challenge: str) -> JsonDict:
    return {
        "token": defaults.VERIFICATION_TOKEN,
        "challenge": challenge,
        "type": "url_verification",
    }


def _trigger_id() -> str:
    return f"{int(time.time())}.{defaults.TEAM_ID[1:]}.{uuid.uuid4().hex}"


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    response_url: str,
    thread_ts: str | None = None,
    block_id: str = "actions",
    user_name: str | None = None,
    channel_name: str | None = None,
    container: Mapping[str, Any] | None = None,
    message: Mapping[str, Any] | None = None,
    team_id: str = defaults.TEAM_ID,
    api_app_id: str = defaults.APP_ID,
    kind: str = "button",
) -> JsonDict:
    """A button click (or, with ``kind="static_select"``, an option picked) on the message
    ``message_ts`` (Slack sends it as form field ``payload``)."""
    user_name = user_name or user.lower()
    if container is None:
        container = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        if thread_ts is not None:
            container = {**container, "thread_ts": thread_ts}
    if message is None:
        message = {"type": "message", "ts": message_ts, "user": defaults.BOT_USER_ID}
        if thread_ts is not None:
            message = {**message, "thread_ts": thread_ts}
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": defaults.VERIFICATION_TOKEN,
        "container": dict(container),
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": defaults.TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name or channel.lower()},
        "message": dict(message),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [_action(kind, action_id, value, block_id=block_id)],
    }


def message_action_payload(
    callback_id: str,
    message: Mapping[str, Any],
    *,
    user: str,
    channel: str,
    response_url: str,
    team_id: str = defaults.TEAM_ID,
    api_app_id: str = defaults.APP_ID,
) -> JsonDict:
    """A message shortcut ``callback_id`` used on ``message`` (as the Web API shows it,
    e.g. ``Message.to_api()``) in ``channel`` (Slack sends it as form field ``payload``)."""
    user_name = user.lower()
    return {
        "type": "message_action",
        "token": defaults.VERIFICATION_TOKEN,
        "action_ts": next_ts(),
        "team": {"id": team_id, "domain": defaults.TEAM_DOMAIN},
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "channel": {"id": channel, "name": channel.lower()},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": _trigger_id(),
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": dict(message),
    }


def _action(kind: str, action_id: str, value: str, *, block_id: str) -> JsonDict:
    text = {"type": "plain_text", "text": value, "emoji": True}
    action: JsonDict = {"action_id": action_id, "block_id": block_id, "type": kind}
    if kind == "static_select":
        action["selected_option"] = {"text": text, "value": value}
    else:
        action.update(text=text, value=value)
    return {**action, "action_ts": next_ts()}


def slash_command_form(
    command: str,
    text: str,
    *,
    user: str,
    channel: str,
    response_url: str,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_id: str = defaults.TEAM_ID,
    api_app_id: str = defaults.APP_ID,
) -> dict[str, str]:
    """The form fields of a slash command, all strings as Slack sends them."""
    return {
        "token": defaults.VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": defaults.TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": channel_name or channel.lower(),
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }


def view_submission_payload(
    view: Mapping[str, Any],
    values: Mapping[str, Mapping[str, Any]],
    *,
    user: str,
    team_id: str = defaults.TEAM_ID,
    api_app_id: str = defaults.APP_ID,
) -> JsonDict:
    """A modal ``view`` (as views.open answered it) submitted with ``values``: block id ->
    action id -> the element's state, e.g. ``{"type": "plain_text_input", "value": "hi"}``."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": defaults.TEAM_DOMAIN},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": api_app_id,
        "token": defaults.VERIFICATION_TOKEN,
        "trigger_id": _trigger_id(),
        "view": {**view, "state": {"values": {k: dict(v) for k, v in values.items()}}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
