"""Teaching the bot in the sandbox, as agents and trainers do: an agent picks an intent in
the newest teaching offer, or uses "Teach the bot this" on the customer's newest message in
the newest thread and fills in the form; a trainer's ``tandem nlu`` commands run on the
sandbox's own project and database, and the running service hot-loads what they train."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from bot.adapters.slack.teach_form import (
    MESSAGE_BLOCK,
    MESSAGE_FIELD,
    NEW_BLOCK,
    NEW_FIELD,
    PICK_BLOCK,
    PICK_FIELD,
    TEACH_SHORTCUT,
)
from bot.adapters.slack.teaching import TEACH_ACTION
from bot.sandbox.world import AGENTS, Sandbox
from bot.simulators.slack import Message, defaults
from handoff.model import Author
from handoff.storage.repository import Repository

TRAINER_TIMEOUT = 900.0  # seconds: `tandem nlu train` takes about a minute


async def pick_in_offer(sandbox: Sandbox, agent: str, intent: str) -> None:
    """``agent`` picks ``intent`` in the newest teaching offer (under a turn the bot failed)."""
    for post in reversed(_thread_posts(sandbox)):
        message_id = _offered_message(post)
        if message_id is not None:
            await sandbox.slack_events.block_action(
                TEACH_ACTION,
                f"{message_id}:{intent}",
                user=_agent(agent),
                channel=defaults.AGENTS_CHANNEL_ID,
                message_ts=post.ts,
                thread_ts=post.thread_ts,
                kind="static_select",
            )
            return
    raise LookupError("no teaching offer yet: the bot must fail a turn before a handoff")


async def teach_newest(sandbox: Sandbox, agent: str, intent: str) -> str:
    """``agent`` uses "Teach the bot this" on the customer's newest message in the newest
    thread and submits ``intent`` (picked when listed, else typed as a new one; of a post
    showing several messages, the newest is chosen); what Slack showed instead of closing
    the form, if anything."""
    card, post = await _newest_relayed(sandbox)
    mark, told = sandbox.slack.mark(), len(sandbox.slack.response_posts)
    await sandbox.slack_events.message_shortcut(
        TEACH_SHORTCUT, post.to_api(), user=_agent(agent), channel=card.channel
    )
    opened = asyncio.create_task(sandbox.slack.wait_for_call("views.open", since=mark))
    answered = asyncio.create_task(sandbox.slack.wait_for_response_post(since=told))
    done, pending = await asyncio.wait({opened, answered}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if opened not in done:
        return str(answered.result().body.get("text"))  # why there is no form
    view = opened.result().params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    listed = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    values: dict[str, dict[str, Any]] = {
        PICK_BLOCK: {PICK_FIELD: {"selected_option": {"value": intent}}},
        NEW_BLOCK: {NEW_FIELD: {"value": None}},
    }
    if intent not in listed:
        values = {
            PICK_BLOCK: {PICK_FIELD: {"selected_option": None}},
            NEW_BLOCK: {NEW_FIELD: {"value": intent}},
        }
    if view["blocks"][0].get("block_id") == MESSAGE_BLOCK:
        newest = view["blocks"][0]["element"]["options"][-1]
        values[MESSAGE_BLOCK] = {MESSAGE_FIELD: {"selected_option": newest}}
    answer = await sandbox.slack_events.view_submission(
        {**view, "id": f"V{mark:09d}"}, values, user=_agent(agent)
    )
    errors = json.loads(answer.body).get("errors", {}) if answer.body else {}
    return " ".join(errors.values())


async def trainer(sandbox: Sandbox, arguments: Sequence[str]) -> str:
    """``tandem nlu ARGUMENTS`` on the sandbox's project and database: its output."""
    settings = sandbox.settings
    if settings is None:
        raise LookupError("the sandbox has not started")
    config = ["--config", str(settings.config_path)] if settings.config_path else []
    database = settings.env.database_url
    env = dict(os.environ)
    if database is not None:
        env["DATABASE_URL"] = database.get_secret_value()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        # -P: not the project folder first on sys.path, where its nlu/ (the trainers' data)
        # would hide Tandem's own nlu package.
        "-P",
        "-m",
        "bot",
        *config,
        "nlu",
        *arguments,
        env=env,
        cwd=settings.root,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=TRAINER_TIMEOUT)
    return out.decode(errors="replace").rstrip()


def _thread_posts(sandbox: Sandbox) -> list[Message]:
    """Every post in the newest card's thread, oldest first."""
    cards = sandbox.cards()
    if not cards:
        raise LookupError("no handoff yet: send /human as the customer")
    return sandbox.thread(cards[-1])


def _offered_message(post: Message) -> int | None:
    for block in post.blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == TEACH_ACTION and element.get("options"):
                number = str(element["options"][0]["value"]).partition(":")[0]
                return int(number) if number.isdigit() else None
    return None


async def _newest_relayed(sandbox: Sandbox) -> tuple[Message, Message]:
    """The newest card, and the post showing its customer's newest message."""
    cards = sandbox.cards()
    if not cards or sandbox.service is None or sandbox.service.database is None:
        raise LookupError("no handoff yet: send /human as the customer")
    card = cards[-1]
    repository = Repository(database=sandbox.service.database)
    found = await repository.locate_thread(agent_channel=card.channel, thread_ts=card.ts)
    recent = await repository.recent_messages(found[0].conversation_id, limit=50) if found else []
    posted = {str((m.decision or {}).get("sent_id")) for m in recent if m.author is Author.CUSTOMER}
    shown = [post for post in sandbox.thread(card) if post.ts in posted]
    if not shown:
        raise LookupError("the customer has written nothing in the newest thread yet")
    return card, shown[-1]


def _agent(name: str) -> str:
    if name not in AGENTS:
        raise LookupError(f"no agent {name!r} (alice or bob)")
    return AGENTS[name]
