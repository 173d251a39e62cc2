"""Personal data, end to end: the whole service (real Rasa on the shipped model, behind a
proxy that records what it is sent) against both simulators. A customer's card number,
email and phone never reach Rasa, the log or any Slack payload; the agent who owns the
handoff reveals them (privately, audited); another agent cannot."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import AnyHttpUrl, SecretStr

from bot.adapters.slack.forget import ERASE_ACTION
from bot.adapters.slack.reveal import REVEAL_ACTION
from bot.logging import configure_logging
from bot.sandbox.world import Sandbox
from bot.settings import load_settings, personal_data_mask
from bot.simulators.slack import Message, defaults
from bot.simulators.telegram import telegram_user
from handoff.privacy.audit import PrivacyEventKind
from handoff.storage.privacy_queries import PrivacyStore
from tests.support.ports import free_port
from tests.support.rasa import project_with
from tests.support.rasa_server import rasa_server

pytestmark = [pytest.mark.rasa]

CARD, EMAIL = "4111 1111 1111 1111", "grace.hopper@example.com"
PHONE, CARD2 = "(415) 555-2671", "5555-5555-5555-4444"
SECRETS = (CARD, EMAIL, PHONE, CARD2, "4111111111111111", "5555555555554444")


class RecordingProxy:
    """Forwards every request to Rasa and keeps the bodies it was sent."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.bodies: list[str] = []
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RecordingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        assert self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        self.bodies.append(body.decode("utf-8", "replace"))
        async with self._session.request(
            request.method,
            f"{self.upstream}{request.rel_url}",
            data=body,
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
        ) as answer:
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )


@pytest.fixture
def service_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What the service's own log set-up writes to stderr; restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    written = io.StringIO()
    monkeypatch.setattr(sys, "stderr", written)
    yield written
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
async def sandbox(
    shipped_model: Path, tmp_path: Path, service_log: io.StringIO
) -> AsyncIterator[tuple[Sandbox, RecordingProxy]]:
    with rasa_server(shipped_model, log=tmp_path / "rasa.log") as rasa:
        async with RecordingProxy(rasa.url) as proxy:
            settings = load_settings(project_with(shipped_model, tmp_path / "project"))
            env = settings.env.model_copy(
                update={
                    "rasa_url": AnyHttpUrl(f"http://127.0.0.1:{proxy.port}"),
                    "rasa_token": SecretStr(rasa.token),
                }
            )
            settings = dataclasses.replace(settings, env=env)
            configure_logging("DEBUG", personal_data=personal_data_mask(settings))
            world = Sandbox(settings)
            await world.start()
            try:
                yield world, proxy
            finally:
                await world.stop()


def _reveal_offers(sandbox: Sandbox, card: Message) -> list[tuple[Message, str]]:
    offers = []
    for post in sandbox.thread(card):
        for block in post.blocks or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == REVEAL_ACTION:
                    offers.append((post, str(element["value"])))
    return offers


async def _press_reveal(sandbox: Sandbox, agent: str, card: Message, offer: Message) -> Any:
    mark = sandbox.slack.mark()
    value = next(v for post, v in _reveal_offers(sandbox, card) if post.ts == offer.ts)
    await sandbox.slack_events.block_action(
        REVEAL_ACTION,
        value,
        user=agent,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=offer.ts,
        thread_ts=card.ts,
    )
    call = await sandbox.slack.wait_for_call(
        "chat.postEphemeral", lambda c: c.params.get("user") == agent, since=mark, timeout=15
    )
    return call.params


async def _posted(sandbox: Sandbox, contains: str, *, since: int) -> None:
    """Until Tandem has posted something with ``contains`` in the agent channel."""
    await sandbox.slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and contains in json.dumps(c.params),
        since=since,
        timeout=15,
    )


async def test_personal_data_is_masked_everywhere_but_for_the_owners_reveal(
    sandbox: tuple[Sandbox, RecordingProxy], service_log: io.StringIO
) -> None:
    world, proxy = sandbox
    customer = telegram_user(7701, first_name="Grace", last_name="Hopper", username="grace7701")

    def say(text: str) -> None:
        world.customer_says(text, customer=customer)

    say(f"Hi, my card {CARD} was charged twice, write to me at {EMAIL}")
    await world.bot_messages(1, customer=customer)
    mark = world.slack.mark()
    say("/human")
    await _posted(world, REVEAL_ACTION, since=mark)
    card = world.cards()[0]

    mark = world.slack.mark()
    await world.agent_presses("alice", card, "claim")
    await _posted(world, "claimed", since=mark)
    mark = world.slack.mark()
    say(f"my phone is {PHONE} and my other card {CARD2}")
    await _posted(world, REVEAL_ACTION, since=mark)
    offer = _reveal_offers(world, card)[1][0]

    # Bob does not own the handoff: he is told so, and sees nothing.
    refused = await _press_reveal(world, defaults.BOB_ID, card, offer)
    assert "Only the agent who owns" in refused["text"]
    # Alice owns it: she alone sees the message as written, and the reveal is recorded.
    revealed = await _press_reveal(world, defaults.ALICE_ID, card, offer)
    assert PHONE in revealed["text"]
    assert CARD2 in revealed["text"]
    card_offer = _reveal_offers(world, card)[0][0]
    revealed_card = await _press_reveal(world, defaults.ALICE_ID, card, card_offer)
    assert CARD in revealed_card["text"]
    assert EMAIL in revealed_card["text"]
    assert world.service is not None
    assert world.service.database is not None
    events = await PrivacyStore(database=world.service.database).events()
    assert [(e.kind, e.actor_id) for e in events] == [
        (PrivacyEventKind.REVEALED, defaults.ALICE_ID),
        (PrivacyEventKind.REVEALED, defaults.ALICE_ID),
    ]
    assert all(e.message_ids for e in events)

    # Rasa was asked about the messages, masked.
    parsed = [json.loads(body)["text"] for body in proxy.bodies if '"text"' in body]
    assert any("[card]" in text and "[email]" in text for text in parsed)
    # Slack: every payload but the two reveals to Alice is masked.
    reveals = {id(revealed), id(revealed_card)}
    payloads = [json.dumps(c.params) for c in world.slack.calls if id(c.params) not in reveals]
    assert any("[card]" in payload for payload in payloads)
    # The log, with a customer's text logged on purpose as well.
    logging.getLogger("tests.e2e").info("customer wrote: %s / %s", CARD, EMAIL)
    log = service_log.getvalue()
    assert "customer wrote: [card] / [email]" in log
    for secret in SECRETS:
        assert all(secret not in body for body in proxy.bodies), secret
        assert all(secret not in payload for payload in payloads), secret
        assert secret not in log, secret
    # The record keeps what the customer wrote, for the agent who handles it.
    async with world.service.database.transaction(doing="reading") as session:
        from sqlalchemy import select  # noqa: PLC0415

        from handoff.storage.tables import MessageRow  # noqa: PLC0415

        texts = (await session.scalars(select(MessageRow.text))).all()
    assert any(text and CARD in text for text in texts)


async def test_a_customers_forget_is_confirmed_by_an_agent_and_erases_everything(
    sandbox: tuple[Sandbox, RecordingProxy],
) -> None:
    world, _ = sandbox
    assert world.service is not None
    assert world.service.database is not None
    customer = telegram_user(7702, first_name="Ada", last_name="Lovelace", username="ada7702")
    world.customer_says(f"my card {CARD} was charged twice", customer=customer)
    await world.bot_messages(1, customer=customer)
    mark = world.slack.mark()
    world.customer_says("/human", customer=customer)
    await _posted(world, REVEAL_ACTION, since=mark)
    card = world.cards()[0]

    mark = world.slack.mark()
    world.customer_says("/forget", customer=customer)
    received = await world.bot_messages(3, customer=customer)
    assert "asked our support team to erase" in received[-1].text
    request = await world.slack.wait_for_call(
        "chat.postMessage", lambda c: ERASE_ACTION in json.dumps(c.params), since=mark, timeout=15
    )
    assert "telegram:7702" in request.params["text"]
    assert not request.params.get("thread_ts")
    posted = next(
        m
        for m in world.slack.messages_in(defaults.AGENTS_CHANNEL_ID)
        if m.text == request.params["text"]
    )

    mark = world.slack.mark()
    await world.slack_events.block_action(
        ERASE_ACTION,
        _button(posted, ERASE_ACTION),
        user=defaults.ALICE_ID,
        channel=defaults.AGENTS_CHANNEL_ID,
        message_ts=posted.ts,
    )
    told = await world.slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == defaults.ALICE_ID,
        since=mark,
        timeout=15,
    )
    assert "is erased" in told.params["text"]
    done = await world.bot_messages(4, customer=customer)
    assert "has been erased" in done[-1].text
    # Tandem's posts in the handoff's thread (the card included) are gone from Slack.
    deleted = {c.params["ts"] for c in world.slack.calls_to("chat.delete") if c.ok}
    assert card.ts in deleted
    assert world.slack.messages_in(defaults.AGENTS_CHANNEL_ID, card.ts) == []
    # Nothing about the customer is left in the database but the audit entries.
    store = PrivacyStore(database=world.service.database)
    assert await store.find_customer("telegram:7702") is None
    kinds = [(e.kind, e.actor_id) for e in await store.events()]
    assert kinds == [
        (PrivacyEventKind.FORGET_REQUESTED, None),
        (PrivacyEventKind.ERASED, defaults.ALICE_ID),
    ]


def _button(message: Message, action_id: str) -> str:
    for block in message.blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise LookupError(action_id)
