"""What a POST to a ``response_url`` does to the workspace, per Slack's rules:
``delete_original`` removes the message the action came from, ``replace_original`` rewrites
it, ``response_type: in_channel`` posts a new message, and anything else is ephemeral."""

from __future__ import annotations

import dataclasses

from bot.simulators.slack import defaults
from bot.simulators.slack.errors import MethodError
from bot.simulators.slack.records import EphemeralMessage, RecordLog, ResponseUrlPost
from bot.simulators.slack.workspace import Message, Workspace


def _truthy(value: object) -> bool:
    return value in (True, "true", "1", 1)


def apply_response(
    post: ResponseUrlPost, *, workspace: Workspace, ephemerals: RecordLog[EphemeralMessage]
) -> None:
    body = post.body
    text = str(body.get("text") or "")
    blocks = body.get("blocks")
    thread_ts = body.get("thread_ts")
    original = _original(post, workspace)
    if original is not None and _truthy(body.get("delete_original")):
        workspace.delete(original.channel, original.ts)
    elif original is not None and _truthy(body.get("replace_original")):
        edited = dataclasses.replace(
            original, text=text, blocks=blocks, edited_ts=workspace.next_ts()
        )
        workspace.replace(edited)
    elif body.get("response_type") == "in_channel":
        workspace.post(
            Message(
                channel=post.channel,
                ts=workspace.next_ts(),
                text=text,
                user=defaults.BOT_USER_ID,
                bot_id=defaults.BOT_ID,
                blocks=blocks,
                thread_ts=thread_ts,
            )
        )
    else:
        ephemerals.append(
            EphemeralMessage(
                channel=post.channel,
                user=None,  # the URL does not say whom; Slack knows from the action
                ts=workspace.next_ts(),
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
            )
        )


def _original(post: ResponseUrlPost, workspace: Workspace) -> Message | None:
    """The message the action was on, if it is (still) in the workspace."""
    if post.message_ts is None:
        return None
    try:
        return workspace.message(post.channel, post.message_ts)
    except MethodError:
        return None
