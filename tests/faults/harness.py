"""The whole service, as the sandbox composes it (the same composition as production: real
PTB client, real Bolt app in HTTP mode, real storage and live state, a real Rasa), on the
embedded default or on PostgreSQL and Redis, with customers and agents whose every message
goes into a :class:`~tests.faults.ledger.Ledger`.

Slack is played the way Slack behaves: an event that is not acknowledged with a 2xx within
3 seconds (an error, a time-out, a service that is down) is sent again, with the same
``event_id`` and ``X-Slack-Retry-Num``, a few times (Slack: after about 0 s, 1 min and
5 min; here compressed, see :class:`FaultTimes`). Telegram keeps updates until the bot
confirms them, as the simulator does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from pydantic import AnyHttpUrl, SecretStr

from bot.sandbox.world import AGENTS, Sandbox
from bot.settings import Settings, load_settings
from bot.simulators.slack import Message, defaults, events
from bot.simulators.telegram import JsonDict, telegram_user
from tests.faults.ledger import Arrival, Counts, Ledger, Observed, Route
from tests.support.rasa_server import RasaEndpoint

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
RESPONSES_FILE = REPO / "config" / "responses.yml"
AGENTS_FILE = REPO / "config" / "agents.yml"
CHANNEL = defaults.AGENTS_CHANNEL_ID
_RECHECK = 0.5  # seconds: look again even when neither platform saw a call
SERVICE_LIMIT = 120.0  # seconds for the service of one test to start, or to stop


def scenario_limit(seconds: float) -> pytest.MarkDecorator:
    """pytest-timeout's limit on a scenario: on the test function alone. Set-up stays out of
    it because the first fault test on each pytest-xdist worker also trains the shipped model
    and starts the session's Rasa: 63 s of set-up on a quiet 2-core machine, and enough more
    on a busy host that a scenario of 5-45 s ran out of a 90-120 s limit that counted both.
    What set-up does is bounded by its own limits (training, Rasa's start, SERVICE_LIMIT)."""
    return pytest.mark.timeout(seconds, func_only=True)


@dataclass(frozen=True, slots=True)
class FaultTimes:
    """How long things take in a scenario; short, so that a scenario stays well under a
    minute, and adjustable in one place."""

    outage: float = 4.0  # how long Redis or PostgreSQL is away
    settle: float = 25.0  # how long, at most, for everything to arrive afterwards
    quiet: float = 2.5  # once all arrived: how long to keep looking for late duplicates
    redelivery_interval: float = 1.0  # conversation.redelivery_interval
    notice_after: float | None = None  # conversation.outage_notice_after (None: not set)
    notice_grace: float = 1.5  # a customer who waited this much longer must have been told
    slack_retry_delays: tuple[float, ...] = (0.5, 2.0, 6.0)  # Slack's redeliveries, compressed
    slack_ack_timeout: float = 3.0  # Slack's own: no 2xx within 3 s is a failed attempt
    slack_paced: bool = True  # False: slack.pacing null (a scenario about something else)

    @property
    def notice_threshold(self) -> float | None:
        return None if self.notice_after is None else self.notice_after + self.notice_grace


def write_config(root: Path, times: FaultTimes) -> Path:
    """A project folder's config/tandem.yml for a scenario; returns its path."""
    conversation: dict[str, Any] = {
        "responses_file": str(RESPONSES_FILE),
        "agents_file": str(AGENTS_FILE),
        "redelivery_interval": times.redelivery_interval,
    }
    if times.notice_after is not None:
        conversation["outage_notice_after"] = times.notice_after
    config = root / "config" / "tandem.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    operator: dict[str, Any] = {"data_dir": str(root / "data"), "conversation": conversation}
    if not times.slack_paced:
        operator["slack"] = {"pacing": None}
    config.write_text(yaml.safe_dump(operator), encoding="utf-8")
    return config


def scenario_settings(config: Path, rasa: RasaEndpoint) -> Settings:
    """The operator's settings from ``config``, using the shared Rasa server."""
    settings = load_settings(config)
    env = settings.env.model_copy(
        update={"rasa_url": AnyHttpUrl(rasa.url), "rasa_token": SecretStr(rasa.token)}
    )
    return dataclasses.replace(settings, env=env)


def notice_matcher(responses_file: Path = RESPONSES_FILE) -> Callable[[str], bool]:
    """Whether a text is the delay notice: a variant of a ``system`` reply whose name has
    "outage" in it (placeholders match anything). Matches nothing while there is none."""
    system = (yaml.safe_load(responses_file.read_text(encoding="utf-8")) or {}).get("system", {})
    patterns = [
        re.compile(".*".join(re.escape(part) for part in re.split(r"\{\w+\}", v["text"].strip())))
        for name, variants in system.items()
        if "outage" in name
        for v in variants
        if isinstance(v, dict) and isinstance(v.get("text"), str)
    ]
    return lambda text: any(p.fullmatch(text.strip()) for p in patterns)


@dataclass(frozen=True, slots=True)
class Person:
    """A customer in Telegram: the chat is the conversation."""

    chat: int
    user: JsonDict
    agent: str  # who answers them in Slack

    @property
    def username(self) -> str:
        return str(self.user["username"])


class FaultWorld(Sandbox):
    """The sandbox's service on the storage given (``None``: the embedded default), with a
    ledger, Slack's redeliveries, and a way to stop and start only the service."""

    def __init__(
        self,
        settings: Settings,
        *,
        times: FaultTimes,
        database_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        super().__init__(settings, database_url=database_url, redis_url=redis_url)
        self.times = times
        self.ledger = Ledger(is_notice=notice_matcher())
        self._people = 0
        self._lanes: dict[int, asyncio.Task[None]] = {}  # per chat: the agent's replies, in turn

    # --- the service ------------------------------------------------------------------

    async def start_service(self) -> Exception | None:
        """Start the service again; what stopped it from starting, if anything did."""
        try:
            await self._start_service()
        except Exception as exc:  # the scenario reports it, and may start it again
            logger.warning("the service did not start: %r", exc)
            return exc
        return None

    async def stop(self) -> None:
        for lane in self._lanes.values():
            lane.cancel()
        await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        await super().stop()

    # --- people -------------------------------------------------------------------------

    def new_person(self) -> Person:
        self._people += 1
        chat = 610_000 + self._people  # six digits: no username is a prefix of another
        user = telegram_user(chat, first_name="Customer", last_name=str(chat), username=f"c{chat}")
        return Person(chat=chat, user=user, agent=sorted(AGENTS)[self._people % len(AGENTS)])

    def customer_writes(self, person: Person, words: str, route: Route) -> str:
        """The customer sends ``words`` and a fresh id; returns the id."""
        text = self.ledger.record(person.chat, route, words)
        self.telegram.send_text(person.chat, text, user=person.user)
        return text.rsplit(" ", 1)[1]

    async def hand_off(
        self, people: Iterable[Person], *, timeout: float = 20.0, idle: float | None = None
    ) -> bool:
        """Each sends /human at once; True when every one of them has a card."""
        crowd = list(people)
        for person in crowd:
            self.customer_writes(person, "/human", Route.TO_BOT)
        return await self.wait_for(
            lambda: all(self.cards_of(p) for p in crowd), timeout=timeout, idle=idle
        )

    def agent_replies(self, person: Person, words: str) -> None:
        """The customer's agent replies in the thread (after their previous reply there was
        taken, or given up on, by Slack's redeliveries: an agent types one at a time)."""
        previous = self._lanes.get(person.chat)
        self._lanes[person.chat] = asyncio.create_task(self._reply(previous, person, words))

    async def _reply(self, previous: Awaitable[None] | None, person: Person, words: str) -> None:
        if previous is not None:
            await previous
        cards = self.cards_of(person)
        if not cards:
            logger.warning("no card for %s: the agent cannot reply", person.username)
            return
        text = self.ledger.record(person.chat, Route.TO_CUSTOMER, words)
        user = AGENTS[person.agent]
        posted = self.slack.add_message(
            channel=CHANNEL, user=user, text=text, thread_ts=cards[0].ts
        )
        event = events.user_message_event(
            channel=CHANNEL, user=user, text=text, ts=posted.ts, thread_ts=cards[0].ts
        )
        if not await self.deliver_event(event):
            logger.warning("Slack gave up on the event of %s", text)

    async def deliver_event(self, event: Mapping[str, Any]) -> bool:
        """Send an Events API event as Slack does, redelivering it until a 2xx answer or
        the redeliveries run out; True when it was acknowledged."""
        event_id = f"Ev{uuid.uuid4().hex[:12].upper()}"
        reason: str | None = None
        for attempt, delay in enumerate((0.0, *self.times.slack_retry_delays)):
            await asyncio.sleep(delay)
            try:
                async with asyncio.timeout(self.times.slack_ack_timeout):
                    answer = await self.slack_events.event_callback(
                        event,
                        event_id=event_id,
                        retry_num=attempt or None,
                        retry_reason=reason,
                    )
            except TimeoutError:
                reason = "http_timeout"
                continue
            except (aiohttp.ClientError, OSError):
                reason = "http_error"  # Slack's word for a refused connection too
                continue
            if 200 <= answer.status < 300:
                return True
            reason = "http_error"
        return False

    # --- what each side sees ----------------------------------------------------------

    def cards_of(self, person: Person) -> list[Message]:
        handle = f"@{person.username}"
        return [c for c in self.cards() if handle in c.text + json.dumps(c.blocks or [])]

    def told_handed_off(self, person: Person) -> bool:
        return any("getting a person" in m.text for m in self.customer_view(customer=person.user))

    def observe(self) -> Observed:
        chats: dict[int, list[Arrival]] = {}
        for call in self.telegram.calls_to("sendMessage"):
            if call.status == 200:
                chat = int(call.params["chat_id"])
                chats.setdefault(chat, []).append(Arrival(str(call.params["text"]), call.at))
        threads: dict[int, list[Arrival]] = {}
        for chat in {s.chat for s in self.ledger.sent}:
            person = Person(chat=chat, user={"username": f"c{chat}"}, agent="")
            posts = [m for card in self.cards_of(person) for m in self.thread(card)]
            posts.sort(key=lambda m: float(m.ts))
            threads[chat] = [Arrival(m.text, float(m.ts)) for m in posts]
        return Observed(threads=threads, chats=chats)

    def count(self) -> Counts:
        return self.ledger.count(self.observe(), notice_after=self.times.notice_threshold)

    # --- waiting without sleeping -------------------------------------------------------

    async def wait_for(
        self, done: Callable[[], bool], *, timeout: float, idle: float | None = None
    ) -> bool:
        """Until ``done()``, looking again whenever either platform gets a call; False when
        ``timeout`` seconds passed first, or ``idle`` seconds without any call (nothing is
        moving any more: a failing scenario need not wait out its whole time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        moved = loop.time()
        while not done():
            now = loop.time()
            if now >= deadline or (idle is not None and now - moved >= idle):
                return False
            if await self._next_call(min(deadline - now, _RECHECK)):
                moved = loop.time()
        return True

    async def _next_call(self, timeout: float) -> bool:
        """Whether a call reached either platform within ``timeout`` seconds."""
        sent = len(self.telegram.calls_to("sendMessage"))
        waits = [
            asyncio.ensure_future(
                self.telegram.wait_for_calls("sendMessage", sent + 1, timeout=timeout)
            ),
            asyncio.ensure_future(
                self.slack.wait_for_call(
                    "chat.postMessage", since=self.slack.mark(), timeout=timeout
                )
            ),
        ]
        finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
        return any(not w.cancelled() and w.exception() is None for w in finished)

    async def settle(self, *, timeout: float | None = None) -> Counts:
        """Wait until every message arrived and every bot-mode message was answered (or
        ``timeout``, by default ``times.settle``, passed), then keep looking a little for
        late duplicates; the counts."""
        if await self.wait_for(self.settled, timeout=timeout or self.times.settle):
            # Nothing announces a duplicate that is still to come: look for a while.
            await asyncio.sleep(self.times.quiet)
        counts = self.count()
        logger.warning("fault counts: %s", counts.line())
        print(f"\nfault counts: {counts.line()}")
        return counts

    def settled(self) -> bool:
        """Every agent's reply was taken (or given up) by Slack, everything sent arrived,
        every bot-mode message was answered."""
        return all(lane.done() for lane in self._lanes.values()) and self.count().clean

    def awaits_answer(self, person: Person) -> bool:
        """Whether the customer's last bot-mode message is still unanswered."""
        mine = {s.id for s in self.ledger.of(Route.TO_BOT) if s.chat == person.chat}
        return bool(mine & set(self.count().unanswered_ids))


async def answered(world: FaultWorld, *, timeout: float, idle: float | None = None) -> bool:
    """Until every bot-mode message sent so far was answered."""
    return await world.wait_for(lambda: world.count().unanswered == 0, timeout=timeout, idle=idle)
