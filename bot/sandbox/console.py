"""``tandem sandbox``: chat as the customer and answer as the agents, in the terminal.

It stops at ``:quit``, at the end of its input, or on the first Ctrl-C (SIGINT) or SIGTERM,
always through the same clean stop (the managed Rasa included)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from bot.adapters.slack.approvals import APPROVE_ACTION, DECLINE_ACTION
from bot.adapters.slack.cards import RETRY_ACTION
from bot.adapters.slack.drafts import REQUEST_APPROVAL_ACTION, SEND_DRAFT_ACTION
from bot.adapters.slack.forget import ERASE_ACTION
from bot.adapters.slack.reveal import REVEAL_ACTION
from bot.sandbox.demo import Transcripts
from bot.sandbox.teaching import pick_in_offer, teach_newest, trainer
from bot.sandbox.world import AGENTS, CARD_ACTIONS, Sandbox, with_approvers
from bot.settings import Settings
from bot.simulators.slack import Message

HELP = """\
You are Ada, a customer in (simulated) Telegram, and the agents alice and bob in (simulated)
Slack. Everything runs through the real service: NLU, policy, storage, both adapters.

  any text                 Ada sends it to the bot (/start, /human and /help work too)
  :press N                 Ada presses button N (1, 2, ...) under the bot's last message
  :alice TEXT, :bob TEXT   the agent replies in the newest handoff thread
                           (start with "note:" to keep it internal)
  :edit AGENT TEXT         the agent edits their last reply to read TEXT (:delete AGENT
                           deletes it): the customer's chat changes too
  :claim AGENT             the agent presses Claim on the newest card (also :return, :close,
                           :retract: delete the bot's last answer in Ada's chat)
  :tandem AGENT ARGS       the agent types /tandem ARGS (e.g. ":tandem bob status #1")
  :reveal AGENT            the agent presses the newest Reveal (masked personal data)
  :erase AGENT             the agent presses Erase under Ada's /forget request
  :retry AGENT             the agent presses Retry under a reply that was not delivered
  :send AGENT              the agent presses Send on the newest suggested reply (the first
                           of its post); :request AGENT presses Request approval (a
                           sensitive topic's), :approve AGENT the newest Approve and send,
                           :decline AGENT its Decline (bob is an approver: the
                           simulator's @support-leads)
  :teach AGENT INTENT      the agent picks INTENT in the newest teaching offer (under a
                           turn the bot did not understand)
  :teachlast AGENT INTENT  the agent uses "Teach the bot this" on Ada's newest message in
                           the newest thread: INTENT from the list, or a new intent's name
  :nlu ARGS                a trainer runs `tandem nlu ARGS` on this sandbox (e.g. ":nlu
                           review --accept all", ":nlu learn", ":nlu train"); the service
                           loads what it trains
  :cards                   list the handoff cards
  :later SECONDS           that much time passes for Tandem's timers (re-pings, escalation)
  :help, :quit"""


# Tandem's buttons in threads and the channel: the newest of each kind is pressed.
THREAD_BUTTONS = {
    "reveal": REVEAL_ACTION,
    "erase": ERASE_ACTION,
    "retry": RETRY_ACTION,
    "send": SEND_DRAFT_ACTION,
    "request": REQUEST_APPROVAL_ACTION,
    "approve": APPROVE_ACTION,
    "decline": DECLINE_ACTION,
}


class Console:
    def __init__(
        self, sandbox: Sandbox, *, out: Callable[[str], None], scripted: bool = False
    ) -> None:
        self._sandbox = sandbox
        self._out = out
        # Commands read from a file or a pipe: each waits for what the one before caused.
        self._scripted = scripted
        self._transcripts = Transcripts()
        self._printed = (0, 0)

    async def run(self, read: Callable[[], str]) -> None:
        self._out(HELP)
        watcher = asyncio.create_task(self._watch())
        try:
            while True:
                try:
                    line = await in_daemon_thread(read)
                except EOFError:
                    break
                if line.strip() in {":quit", ":q", ":exit"}:
                    break
                if self._scripted:
                    await self._sandbox.quiet_down()
                try:
                    await self.do(line.strip())
                except (LookupError, ValueError, TimeoutError) as exc:
                    self._out(f"! {exc}")
            if self._scripted:
                await self._sandbox.quiet_down()  # the end of the input cuts nothing off
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self._flush()

    async def do(self, line: str) -> None:
        """One line typed at the prompt."""
        if not line:
            return
        if not line.startswith(":"):
            self._sandbox.customer_says(line)
            return
        command, _, rest = line[1:].partition(" ")
        if command in {"help", "cards"}:
            self._show(command)
        elif command == "press":
            self._press(int(rest))
        elif command in AGENTS:
            await self._sandbox.agent_says(command, self._newest_card(), rest)
        elif command in CARD_ACTIONS:
            await self._sandbox.agent_presses(rest.strip() or "alice", self._newest_card(), command)
        elif command == "tandem":
            agent, _, arguments = rest.partition(" ")
            await self._sandbox.agent_command(agent, arguments)
        elif command in THREAD_BUTTONS:
            await self._sandbox.agent_presses_privacy(
                rest.strip() or "alice", THREAD_BUTTONS[command]
            )
        elif command in {"edit", "delete", "later"}:
            await (self._later(rest) if command == "later" else self._revise(command, rest))
        elif command in {"teach", "teachlast", "nlu"}:
            await self._teach(command, rest)
        else:
            raise ValueError(f"unknown command :{command} (:help lists them)")

    def _show(self, command: str) -> None:
        if command == "help":
            self._out(HELP)
            return
        for number, card in enumerate(self._sandbox.cards(), start=1):
            self._out(f"  {number}. {card.text[:100]}")

    async def _teach(self, command: str, rest: str) -> None:
        if command == "nlu":
            self._out(await trainer(self._sandbox, rest.split()))
            return
        agent, _, intent = rest.strip().partition(" ")
        if not intent.strip():
            raise ValueError(f"expected :{command} AGENT INTENT (e.g. :{command} alice greet)")
        if command == "teach":
            await pick_in_offer(self._sandbox, agent, intent.strip())
            return
        refused = await teach_newest(self._sandbox, agent, intent.strip())
        if refused:
            self._out(f"  (the form says: {refused})")

    async def _later(self, rest: str) -> None:
        try:
            seconds = float(rest.strip().removesuffix("s"))
        except ValueError:
            raise ValueError(f"expected :later SECONDS (e.g. :later 130), not {rest!r}") from None
        taken = await self._sandbox.later(seconds)
        self._out(f"  ({seconds:g} s later for Tandem's timers: {taken} SLA step(s) taken)")

    def _press(self, number: int) -> None:
        view = self._sandbox.customer_view()
        if not view:
            raise LookupError("the bot has not sent anything yet")
        buttons = [data for row in view[-1].buttons for _, data in row]
        if not 1 <= number <= len(buttons):
            raise LookupError(f"the last message has {len(buttons)} button(s)")
        self._sandbox.customer_presses(view[-1], buttons[number - 1])

    async def _revise(self, command: str, rest: str) -> None:
        """:edit AGENT TEXT or :delete AGENT: the agent's last reply in the newest thread."""
        agent, _, text = rest.strip().partition(" ")
        agent = agent or "alice"
        card = self._newest_card()
        reply = self._last_reply(agent, card)
        await self._sandbox.agent_revises(agent, card, reply, text if command == "edit" else None)

    def _last_reply(self, agent: str, card: Message) -> Message:
        if agent not in AGENTS:
            raise LookupError(f"no agent {agent!r} (alice or bob)")
        replies = [m for m in self._sandbox.thread(card) if m.user == AGENTS[agent]]
        if not replies:
            raise LookupError(f"{agent} has not replied in the newest thread")
        return replies[-1]

    def _newest_card(self) -> Message:
        cards = self._sandbox.cards()
        if not cards:
            raise LookupError("no handoff yet: send /human as the customer")
        return cards[-1]

    async def _watch(self) -> None:
        """Print what both sides see as it happens."""
        while True:
            seen = len(self._sandbox.customer_view())
            mark = self._sandbox.slack.mark()
            bot = asyncio.create_task(self._sandbox.bot_messages(seen + 1, timeout=3600))
            slack = asyncio.create_task(
                self._sandbox.slack.wait_for_call("chat.postMessage", since=mark, timeout=3600)
            )
            updates = asyncio.create_task(
                self._sandbox.slack.wait_for_call("chat.update", since=mark, timeout=3600)
            )
            pending = {bot, slack, updates}
            try:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in pending:
                    task.cancel()
            self._flush()

    def _flush(self) -> None:
        self._transcripts.catch_up(self._sandbox)
        telegram, slack = self._printed
        for line in self._transcripts.telegram[telegram:]:
            self._out("[telegram]" + line)
        for line in self._transcripts.slack[slack:]:
            self._out("[slack]   " + line)
        self._printed = (len(self._transcripts.telegram), len(self._transcripts.slack))


async def run_console(settings: Settings, *, out: Callable[[str], None]) -> None:
    sandbox = Sandbox(with_approvers(settings))
    out("starting the sandbox (simulated Telegram and Slack, managed Rasa)...")
    with stop_requests() as stopping:
        if not await unless_stopped(sandbox.start(), stopping):
            out("\nstopped before the sandbox was ready")  # its start cleaned up after itself
            return
        try:
            console = Console(sandbox, out=out, scripted=not sys.stdin.isatty())
            await unless_stopped(console.run(_prompt), stopping)
        finally:
            if stopping.is_set():
                out("\nstopping the sandbox...")  # after the "^C" the terminal echoed
            await sandbox.stop()


def _prompt() -> str:
    return input("> ")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_requests() -> Iterator[asyncio.Event]:
    """An event the first Ctrl-C (SIGINT) or SIGTERM sets. The second one gets the default
    behaviour back (KeyboardInterrupt, termination): a way out of a stop that hangs."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def restore() -> None:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)

    def stop() -> None:
        stopping.set()
        restore()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop)
    try:
        yield stopping
    finally:
        restore()


async def unless_stopped(work: Coroutine[Any, Any, None], stopping: asyncio.Event) -> bool:
    """Run ``work`` to its end (True; its error propagates), or until ``stopping`` is set:
    then cancel it and return False once it has unwound."""
    task = asyncio.create_task(work)
    stop = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if task.cancelled():
        return False
    task.result()
    return True


async def in_daemon_thread(read: Callable[[], str]) -> str:
    """``read()`` (``input()``) in a thread of its own that nobody waits for.

    Not ``asyncio.to_thread``: a thread blocked in ``input()`` cannot be interrupted, and
    the executor's threads are joined when the loop closes and again at exit, so Ctrl-C
    waited for Enter. A daemon thread still blocked in ``input()`` ends with the process."""
    future: concurrent.futures.Future[str] = concurrent.futures.Future()

    def reading() -> None:
        try:
            line = read()
        except Exception as exc:  # EOFError at the end of input: raised where it is awaited
            outcome = functools.partial(future.set_exception, exc)
        else:
            outcome = functools.partial(future.set_result, line)
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            outcome()  # unless cancelled meanwhile: the console stopped without this line

    threading.Thread(target=reading, name="sandbox-input", daemon=True).start()
    return await asyncio.wrap_future(future)
