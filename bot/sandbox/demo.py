"""``tandem demo``: a scripted conversation through the real adapters and the simulators.

Each step acts as the customer or an agent, then waits for what must follow. Both sides'
transcripts are printed; a step that does not happen fails the demo (exit code 1).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.slack.approvals import APPROVE_ACTION
from bot.adapters.slack.cards import TAUGHT_BLOCK
from bot.adapters.slack.drafts import SEND_DRAFT_ACTION
from bot.sandbox.world import Sandbox
from bot.settings import Settings
from bot.simulators.slack import Message
from bot.simulators.telegram import SentMessage

STEP_TIMEOUT = 20.0
DRAFT_ACTIONS = frozenset({SEND_DRAFT_ACTION, APPROVE_ACTION})


class StepFailed(Exception):
    """What the step waited for did not happen."""


@dataclass
class Transcripts:
    """What each side saw, in order, built up as the demo runs."""

    telegram: list[str] = field(default_factory=list)
    slack: list[str] = field(default_factory=list)
    _bot_seen: int = 0
    _slack_seen: int = 0
    _telegram_calls_seen: int = 0

    def customer(self, text: str) -> None:
        self.telegram.append(f"  Ada    > {text}")

    def agent(self, name: str, text: str) -> None:
        self.slack.append(f"  [thread] {name}: {text}")

    def catch_up(self, sandbox: Sandbox) -> None:
        for message in sandbox.customer_view()[self._bot_seen :]:
            buttons = " ".join(f"[{label}]" for row in message.buttons for label, _ in row)
            text = message.text.replace("\n", "\n           ")
            self.telegram.append(
                f"  Tandem < {text}" + (f"\n           {buttons}" if buttons else "")
            )
        self._bot_seen = len(sandbox.customer_view())
        # Edits and deletions change messages already printed: said as they happen.
        telegram_calls = sandbox.telegram.calls
        for change in telegram_calls[self._telegram_calls_seen :]:
            line = _describe_telegram_change(change.method, change.params, change.status)
            if line:
                self.telegram.append(line)
        self._telegram_calls_seen = len(telegram_calls)
        calls = sandbox.slack.calls
        for call in calls[self._slack_seen :]:
            line = _describe_slack_call(call.method, call.params)
            if line:
                self.slack.append(line)
        self._slack_seen = len(calls)


def _describe_telegram_change(method: str, params: dict[str, Any], status: int) -> str | None:
    if status != 200:
        return None
    if method == "editMessageText":
        text = str(params.get("text", "")).replace("\n", "\n           ")
        return f"  Tandem < (edited) {text}"
    if method == "deleteMessage":
        return f"  (Tandem's message {params.get('message_id')} was deleted)"
    return None


def _describe_slack_call(method: str, params: dict[str, Any]) -> str | None:
    text = str(params.get("text", "")).replace("\n", " ")
    short = text if len(text) <= 160 else text[:157] + "..."
    if method == "chat.postMessage":
        where = "thread" if params.get("thread_ts") else "#support-agents"
        return f"  [{where}] {short}" + _drafts_shown(params.get("blocks"))
    if method == "chat.update":
        return f"  [card updated] {short}" + _taught_shown(params.get("blocks"))
    if method == "chat.postEphemeral":
        return f"  [only {params.get('user')}] {short}"
    if method == "reactions.add":
        return f"  [reaction :{params.get('name')}: on {params.get('timestamp')}]"
    if method == "chat.delete":
        return f"  [deleted {params.get('ts')}]"
    return None


def _taught_shown(blocks: object) -> str:
    """A card's lines about what agents taught the bot, if it has them."""
    shown = [
        str(element.get("text", ""))
        for block in (blocks if isinstance(blocks, list) else [])
        if isinstance(block, dict) and block.get("block_id") == TAUGHT_BLOCK
        for element in block.get("elements", [])
    ]
    return "".join(f"\n           {line}" for text in shown for line in text.splitlines())


def _drafts_shown(blocks: object) -> str:
    """The drafts of a drafts' post (or an approvers' ping), each with what its buttons
    say, a note such as "needs approval" above it; nothing for any other post."""
    if not isinstance(blocks, list) or not any(
        element.get("action_id") in DRAFT_ACTIONS
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "actions"
        for element in block.get("elements", [])
    ):
        return ""
    lines, shown = [], ""
    for block in blocks[1:]:  # the first is the prompt (or the ping) already printed
        if block.get("type") == "actions":
            labels = " ".join(f"[{e['text']['text']}]" for e in block.get("elements", []))
            lines.append(f"{shown} {labels}".strip())
            shown = ""
        else:
            text = str((block.get("text") or block.get("elements", [{}])[0]).get("text", ""))
            text = text.replace("\n", " ")
            shown += f"({text}) " if block.get("type") == "context" else text[:160]
    return "".join(f"\n           - {line}" for line in lines)


async def run_demo(settings: Settings, *, out: Callable[[str], None]) -> bool:
    """Run the script; True if every step happened."""
    sandbox = Sandbox(settings)
    out("starting the sandbox (simulated Telegram and Slack, managed Rasa)...")
    await sandbox.start()
    transcripts = Transcripts()
    ok = True
    try:
        for number, (name, step) in enumerate(_Script(sandbox, transcripts).steps(), start=1):
            try:
                await step()
            except (StepFailed, TimeoutError, LookupError, ValueError) as exc:
                out(f"{number:2d}. {name}: FAILED ({exc or type(exc).__name__})")
                ok = False
                break
            finally:
                transcripts.catch_up(sandbox)
            out(f"{number:2d}. {name}: ok")
    finally:
        await sandbox.stop()
    out("")
    out("=== Telegram: what the customer saw ===")
    for line in transcripts.telegram:
        out(line)
    out("")
    out("=== Slack: what the agents saw in #support-agents ===")
    for line in transcripts.slack:
        out(line)
    out("")
    out("demo passed: every step happened" if ok else "demo FAILED")
    return ok


Step = tuple[str, Callable[[], Awaitable[None]]]


class _Script:
    """The demo's steps; each acts, then waits for what must follow."""

    def __init__(self, sandbox: Sandbox, transcripts: Transcripts) -> None:
        self._sandbox = sandbox
        self._transcripts = transcripts
        self._card: Message | None = None
        self._rating_request: SentMessage | None = None

    def steps(self) -> list[Step]:
        return [
            ("a greeting is answered, and the bot says it is a bot", self.greeting),
            ("a routine question is answered", self.routine),
            ("two failed turns hand the conversation to a person", self.two_failed_turns),
            ("the handoff card appears in the agent channel", self.card),
            ("an agent claims it and the reply reaches the customer", self.claim_and_reply),
            (
                "the customer's reply appears in the thread, its email masked",
                self.customer_to_thread,
            ),
            ("return to bot, and the bot answers again", self.back_to_bot),
            ("a second handoff is closed by an agent", self.second_handoff_closed),
            ("the customer's rating is stored and shown on the card", self.rating),
        ]

    # --- the steps --------------------------------------------------------------------------

    async def greeting(self) -> None:
        await self._say("/start", expect="automated assistant")
        await self._say("hello", expect="")

    async def routine(self) -> None:
        await self._say("I forgot my password, how do I reset it?", expect="Forgot password?")

    async def two_failed_turns(self) -> None:
        await self._say("purple monkey dishwasher", expect="")
        await self._say("asdf qwer zxcv", expect="person")

    async def card(self) -> None:
        card = await self._next_card()
        shown = (json.dumps(card.blocks or []) + card.text).lower()
        for needed in ("ada", "@ada", "failed"):
            if needed not in shown:
                raise StepFailed(f"the card does not mention {needed!r}")

    async def claim_and_reply(self) -> None:
        card = self._current_card()
        mark = self._sandbox.slack.mark()
        await self._agent_presses("alice", card, "claim")
        await self._card_update(mark, "Claimed by")
        await self._agent_says("alice", card, "Hi Ada, I'm Alice. Which email do you use?")
        await self._bot("Which email do you use?")

    async def customer_to_thread(self) -> None:
        mark = self._sandbox.slack.mark()
        self._customer("It's ada@example.com, thanks")
        await self._thread_post(mark, "It's [email], thanks")

    async def back_to_bot(self) -> None:
        await self._agent_presses("alice", self._current_card(), "return")
        await self._bot("back with the automated assistant")
        await self._say("how do I cancel my subscription?", expect="Cancel subscription")

    async def second_handoff_closed(self) -> None:
        mark = self._sandbox.slack.mark()
        await self._say("/human", expect="person")
        card = await self._next_card(since=mark)
        await self._agent_says("bob", card, "Hello Ada, Bob here. Anything else?")
        await self._bot("Bob here")
        await self._agent_presses("bob", card, "close")
        self._rating_request = await self._bot("rate")

    async def rating(self) -> None:
        request = self._rating_request
        if request is None:
            raise StepFailed("no rating request to answer")
        five = next(data for row in request.buttons for label, data in row if label == "★★★★★")
        mark = self._sandbox.slack.mark()
        self._transcripts.catch_up(self._sandbox)
        self._transcripts.customer("(presses ★★★★★)")
        self._sandbox.customer_presses(request, five)
        await self._bot("Thank you for your rating")
        await self._card_update(mark, "5/5")

    # --- acting and waiting -----------------------------------------------------------------

    def _customer(self, text: str) -> None:
        self._transcripts.catch_up(self._sandbox)
        self._transcripts.customer(text)
        self._sandbox.customer_says(text)

    async def _agent_says(self, agent: str, card: Message, text: str) -> None:
        self._transcripts.catch_up(self._sandbox)
        self._transcripts.agent(agent.capitalize(), text)
        await self._sandbox.agent_says(agent, card, text)

    async def _agent_presses(self, agent: str, card: Message, action: str) -> None:
        self._transcripts.catch_up(self._sandbox)
        self._transcripts.slack.append(f"  ({agent.capitalize()} presses {action.capitalize()})")
        await self._sandbox.agent_presses(agent, card, action)

    async def _say(self, text: str, *, expect: str) -> SentMessage:
        self._customer(text)
        return await self._bot(expect)

    async def _bot(self, contains: str) -> SentMessage:
        """The next message from Tandem to the customer that contains ``contains``."""
        seen = len(self._sandbox.customer_view())
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                while True:
                    messages = await self._sandbox.bot_messages(seen + 1, timeout=STEP_TIMEOUT)
                    for message in messages[seen:]:
                        if contains.lower() in message.text.lower():
                            return message
                    seen = len(messages)
        except TimeoutError:
            said = [m.text[:60] for m in self._sandbox.customer_view()[-3:]]
            raise StepFailed(f"Tandem did not say {contains!r} (last: {said})") from None

    async def _next_card(self, *, since: int = 0) -> Message:
        await self._sandbox.slack.wait_for_call(
            "chat.postMessage",
            lambda c: c.ok and not c.params.get("thread_ts"),
            since=since,
            timeout=STEP_TIMEOUT,
        )
        self._card = self._sandbox.cards()[-1]  # the card just posted is the newest parent
        return self._card

    async def _card_update(self, since: int, contains: str) -> None:
        await self._sandbox.slack.wait_for_call(
            "chat.update",
            lambda c: contains in json.dumps(c.params),
            since=since,
            timeout=STEP_TIMEOUT,
        )

    async def _thread_post(self, since: int, contains: str) -> None:
        card = self._current_card()
        await self._sandbox.slack.wait_for_call(
            "chat.postMessage",
            lambda c: c.params.get("thread_ts") == card.ts and contains in json.dumps(c.params),
            since=since,
            timeout=STEP_TIMEOUT,
        )

    def _current_card(self) -> Message:
        if self._card is None:
            raise StepFailed("no handoff card yet")
        return self._card
