"""Virtual customers in closed loops: each sends a message, waits for the answer, sends the
next. A customer of the service writes in Telegram (the simulator) and waits for the bot's
sendMessage to its chat; a customer of bare Rasa posts to ``/model/parse``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.bench.report import Sample
from bot.bench.texts import AnswerMatcher, Feed
from bot.simulators.telegram import Call, TelegramSimulator, telegram_user
from nlu.client import NluParser
from nlu.errors import NluError

logger = logging.getLogger(__name__)

NO_REPLY = "no reply in time"
NOT_AN_ANSWER = "a reply that is not a bot answer"
NO_PARSE = "Rasa did not parse"
_FIRST_CHAT = 700_000_001
_IDLE_LOOK = 60.0  # seconds: how long the inbox waits before it looks again anyway

Turn = Callable[[], Awaitable[Sample]]


async def closed_loops(customers: Sequence[Turn], messages: int) -> tuple[list[Sample], float]:
    """The customers take turns from one pool of ``messages``, each as fast as it is
    answered; the samples, and the seconds it took."""
    tickets = iter(range(messages))
    samples: list[Sample] = []

    async def loop(turn: Turn) -> None:
        for _ in tickets:
            samples.append(await turn())

    started = time.monotonic()
    await asyncio.gather(*(loop(turn) for turn in customers))
    return samples, time.monotonic() - started


async def each_takes(customers: Sequence[Turn], turns: int) -> list[Sample]:
    """Every customer takes ``turns`` turns (all at once, each in its own closed loop)."""
    samples: list[Sample] = []

    async def loop(turn: Turn) -> None:
        for _ in range(turns):
            samples.append(await turn())

    await asyncio.gather(*(loop(turn) for turn in customers))
    return samples


class Inbox:
    """The bot's messages, chat by chat, as the Telegram simulator receives them. It reads
    and forgets the simulator's record of calls, so a long run keeps it short."""

    def __init__(self, telegram: TelegramSimulator) -> None:
        self._telegram = telegram
        self._chats: dict[int, asyncio.Queue[Call]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._collect(), name="bench inbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def next(self, chat_id: int, *, timeout: float) -> Call:
        """The bot's next message to ``chat_id``; raises TimeoutError."""
        return await asyncio.wait_for(self._chat(chat_id).get(), timeout)

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)

    def _chat(self, chat_id: int) -> asyncio.Queue[Call]:
        return self._chats.setdefault(chat_id, asyncio.Queue())

    async def _collect(self) -> None:
        calls = self._telegram.calls
        while True:
            with contextlib.suppress(TimeoutError):
                await self._telegram.wait_for_call("sendMessage", timeout=_IDLE_LOOK)
            arrived = calls[:]
            del calls[: len(arrived)]
            for call in arrived:
                if call.method.lower() == "sendmessage" and call.status == 200:
                    self._chat(int(call.params["chat_id"])).put_nowait(call)


@dataclass(frozen=True, slots=True, kw_only=True)
class Crowd:
    """Where the service's customers write and read, and what they say."""

    telegram: TelegramSimulator
    inbox: Inbox
    texts: Feed  # the service's: each text once, whichever row sends it
    is_answer: AnswerMatcher
    timeout: float
    # Every customer, and every fresh start of one, gets a chat nobody used before.
    chats: itertools.count[int] = field(default_factory=lambda: itertools.count(_FIRST_CHAT))


class Customer:
    """One virtual customer of the service. After an error it starts over in a new chat,
    so that a late reply, or a conversation now with a person, affects nothing after it."""

    def __init__(self, *, crowd: Crowd, number: int) -> None:
        self._crowd = crowd
        self._number = number
        self._chat = next(crowd.chats)

    async def __call__(self) -> Sample:
        crowd = self._crowd
        text = crowd.texts.text(self._number)
        user = telegram_user(self._chat, first_name="Customer", username=f"c{self._chat}")
        started = time.monotonic()
        crowd.telegram.send_text(self._chat, text, user=user)
        try:
            reply = await crowd.inbox.next(self._chat, timeout=crowd.timeout)
        except TimeoutError:
            logger.warning("no reply to %r in chat %s within %g s", text, self._chat, crowd.timeout)
            self._start_over()
            return Sample(None, NO_REPLY)
        seconds = reply.at - started
        answer = str(reply.params.get("text", ""))
        if not crowd.is_answer(answer):
            logger.warning("chat %s: %r was answered %r", self._chat, text, answer[:80])
            self._start_over()
            return Sample(seconds, NOT_AN_ANSWER)
        return Sample(seconds)

    def _start_over(self) -> None:
        self._crowd.inbox.forget(self._chat)
        self._chat = next(self._crowd.chats)


class RasaCustomer:
    """One virtual client of bare Rasa: the same texts, straight to ``/model/parse``."""

    def __init__(self, *, parser: NluParser, texts: Feed, number: int) -> None:
        self._parser = parser
        self._texts = texts
        self._number = number

    async def __call__(self) -> Sample:
        text = self._texts.text(self._number)
        started = time.monotonic()
        try:
            await self._parser.parse(text)
        except NluError as exc:
            logger.warning("Rasa did not parse %r: %s", text, exc)
            return Sample(None, NO_PARSE)
        return Sample(time.monotonic() - started)
