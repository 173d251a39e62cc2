"""The requests Tandem takes, by shape, checked before Bolt reads them.

Bolt indexes into payloads as Slack shapes them (``body["event"]["type"]``,
``body["actions"][0]``) while it finds a listener and builds its arguments, even inside its
own error handler: a signed payload of another shape would end in a 500 and a traceback.
Tandem takes Slack's URL check and SSL check, message events, block actions, slash
commands, message shortcuts and modals' submissions; anything else, or any of these not
shaped as Slack sends them, is not passed on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Inside a message event: what Slack nests as objects (edits, deletions, broadcasts).
NESTED_IN_EVENTS = ("message", "previous_message", "edited", "root")
# Inside a block_actions payload: what Slack sends as objects, when it sends them.
OBJECTS_IN_ACTIONS = ("user", "container", "channel", "message", "team", "state")


def shape_problem(body: Mapping[str, Any]) -> str | None:
    """Why ``body`` is not a request Tandem takes, or None when it is."""
    if "command" in body or "ssl_check" in body:
        # Forms: every value is a string, as parse_qsl made them; JSON could be anything.
        return None if all(isinstance(value, str) for value in body.values()) else "bad form"
    kind = body.get("type")
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "bad challenge"
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    return check(body) if check is not None else "not a kind of request Tandem takes"


def _view_problem(body: Mapping[str, Any]) -> str | None:
    """A modal's submission (a draft edited before it is sent)."""
    view = body.get("view")
    if not isinstance(view, Mapping) or not isinstance(view.get("callback_id"), str):
        return "bad view"
    state = view.get("state")
    if not isinstance(state, Mapping) or not isinstance(state.get("values"), Mapping):
        return "bad view state"
    user = body.get("user")
    if not isinstance(user, Mapping) or not isinstance(user.get("id"), str):
        return "bad user"
    return None


def _shortcut_problem(body: Mapping[str, Any]) -> str | None:
    """A message shortcut (the "Teach the bot this" on a customer's message)."""
    if not isinstance(body.get("callback_id"), str) or not isinstance(body.get("trigger_id"), str):
        return "bad shortcut"
    if not all(isinstance(body.get(key), Mapping) for key in ("user", "channel", "message")):
        return "bad payload"
    return None


def _event_problem(body: Mapping[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(body.get("event_id"), str) or not isinstance(event, Mapping):
        return "bad event envelope"
    if not isinstance(event.get("type"), str):
        return "bad event type"
    if any(not _object_or_absent(event, key) for key in NESTED_IN_EVENTS):
        return "bad nested message"
    authorizations = body.get("authorizations", [])
    if not isinstance(authorizations, list) or not all(
        isinstance(one, Mapping) for one in authorizations
    ):
        return "bad authorizations"
    return None


def _actions_problem(body: Mapping[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "bad actions"
    if not all(isinstance(a, Mapping) and isinstance(a.get("action_id"), str) for a in actions):
        return "bad action"
    if not isinstance(body.get("user"), Mapping):
        return "bad user"
    if any(not _object_or_absent(body, key) for key in OBJECTS_IN_ACTIONS):
        return "bad payload"
    return None


def _object_or_absent(container: Mapping[str, Any], key: str) -> bool:
    value = container.get(key)
    return value is None or isinstance(value, Mapping)


# The payloads Tandem takes, by type, and their checks.
_CHECKS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "event_callback": _event_problem,
    "block_actions": _actions_problem,
    "view_submission": _view_problem,
    "message_action": _shortcut_problem,
}
