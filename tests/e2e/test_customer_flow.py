"""Customers in Telegram, end to end: the real PTB client against the Telegram simulator,
a real Rasa server on the shipped model, the real engine, policy, replies and storage.
Agents are a recording fake here (the Slack side has its own end-to-end tests)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.adapters.telegram import TelegramAdapter
from bot.simulators.telegram import SentMessage, TelegramSimulator
from handoff.agent_texts import load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine import ConversationEngine
from handoff.model import ConversationKey, Inbound, Mode
from handoff.policy import FrustrationDetector, PolicyConfig
from handoff.responses import load_responses
from handoff.state import InMemoryLiveState
from handoff.storage import Database, Repository
from nlu.server import ManagedRasaServer
from tests.support.fakes import RecordingDesk
from tests.support.rasa import ready_environment, store_with

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]

# Sentences the shipped model does not understand (measured: low confidence, or
# out_of_scope), so each is a failed turn.
NOT_UNDERSTOOD = ("asdf qwer zxcv", "purple monkey dishwasher", "tell me a joke")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rasa(
    shipped_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ManagedRasaServer]:
    store = store_with(shipped_model, tmp_path_factory.mktemp("e2e-models"))
    async with ManagedRasaServer(environment=ready_environment(), store=store) as server:
        yield server


class _Late:
    engine: ConversationEngine | None = None

    async def handle(self, inbound: Inbound) -> None:
        assert self.engine is not None
        await self.engine.handle(inbound)


@dataclass
class Customerside:
    sim: TelegramSimulator
    desk: RecordingDesk
    state: InMemoryLiveState
    chat: int

    def say(self, text: str) -> None:
        self.sim.send_text(self.chat, text)

    async def replies(self, count: int) -> list[SentMessage]:
        return await self.sim.wait_for_messages(self.chat, count, timeout=15.0)

    async def mode(self) -> Mode | None:
        live = await self.state.get(ConversationKey("telegram", str(self.chat)))
        return live.mode if live else None


_chats = iter(range(7001, 8000))


@pytest_asyncio.fixture(loop_scope="module")
async def world(rasa: ManagedRasaServer, tmp_path: Path) -> AsyncIterator[Customerside]:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}")
    await database.upgrade()
    state = InMemoryLiveState()
    desk = RecordingDesk()
    late = _Late()
    async with TelegramSimulator() as sim:
        adapter = TelegramAdapter(token=sim.token, api_url=sim.api_url, handler=late)
        conversations = Conversations(
            repository=Repository(database=database), state=state, channel=adapter
        )
        responses = load_responses(REPO / "config" / "responses.yml", rng=random.Random(3))
        handoffs = HandoffDesk(
            conversations=conversations,
            desk=desk,
            responses=responses,
            texts=load_agent_texts(REPO / "config" / "agents.yml"),
        )
        late.engine = ConversationEngine(
            conversations=conversations,
            desk=handoffs,
            nlu=rasa,
            responses=responses,
            policy=PolicyConfig(),
            detector=FrustrationDetector(),
        )
        await adapter.start()
        try:
            yield Customerside(sim=sim, desk=desk, state=state, chat=next(_chats))
        finally:
            await adapter.stop()
            await database.dispose()


async def test_start_greets_and_says_it_is_a_bot(world: Customerside) -> None:
    world.sim.send_command(world.chat, "/start")
    [greeting] = await world.replies(1)
    assert "automated assistant" in greeting.text
    assert ("Talk to a person", "human") in greeting.buttons[0]
    assert greeting.parse_mode is None  # plain text: nothing is interpreted as markup


async def test_a_greeting_and_a_routine_question_are_answered(world: Customerside) -> None:
    world.say("hello")
    await world.replies(1)
    world.say("I forgot my password")
    [_, answer] = await world.replies(2)
    assert "Forgot password?" in answer.text
    assert await world.mode() is Mode.BOT


async def test_two_failed_turns_in_a_row_hand_off(world: Customerside) -> None:
    world.say(NOT_UNDERSTOOD[0])
    [clarify] = await world.replies(1)
    assert ("Talk to a person", "human") in clarify.buttons[0]
    world.say(NOT_UNDERSTOOD[1])
    [_, handoff] = await world.replies(2)
    assert "person" in handoff.text
    assert await world.mode() is Mode.WAITING
    [ticket] = await world.desk.wait_for_tickets(1)
    assert ticket.reason == "failed_turns"
    assert len(ticket.failed_turns) == 2


async def test_one_failed_turn_then_a_resolved_one_stays_with_the_bot(
    world: Customerside,
) -> None:
    world.say(NOT_UNDERSTOOD[2])
    await world.replies(1)
    world.say("how do I cancel my subscription")
    [_, answer] = await world.replies(2)
    assert "Cancel subscription" in answer.text
    assert await world.mode() is Mode.BOT
    assert world.desk.tickets == []


async def test_frustration_hands_off_at_once(world: Customerside) -> None:
    world.say("This is ridiculous, I have been waiting for 3 weeks and nobody helps me!!")
    [reply] = await world.replies(1)
    assert "frustrating" in reply.text
    [ticket] = await world.desk.wait_for_tickets(1)
    assert ticket.reason == "frustrated"


async def test_the_person_button_hands_off_at_once(world: Customerside) -> None:
    world.sim.send_command(world.chat, "/start")
    [greeting] = await world.replies(1)
    world.sim.press_button(world.chat, greeting.message_id, "human")
    await world.replies(2)
    await world.sim.wait_for_call("answerCallbackQuery")
    assert await world.mode() is Mode.WAITING
    [ticket] = await world.desk.wait_for_tickets(1)
    assert ticket.reason == "person_requested"


async def test_the_human_command_hands_off_at_once(world: Customerside) -> None:
    world.sim.send_command(world.chat, "/human")
    [reply] = await world.replies(1)
    assert "getting a person" in reply.text
    [ticket] = await world.desk.wait_for_tickets(1)
    assert ticket.reason == "person_requested"


async def test_after_the_handoff_the_bot_stays_quiet(world: Customerside) -> None:
    world.sim.send_command(world.chat, "/human")
    await world.replies(1)
    world.say("hello?")
    world.say("I forgot my password")
    # The messages reach the agents' side; the customer gets no bot answer.
    await world.desk.wait_for_relays(2)
    assert [r.text for _, r, _ in world.desk.relays] == ["hello?", "I forgot my password"]
    assert len(world.sim.messages_to(world.chat)) == 1


async def test_a_429_from_telegram_is_retried_and_the_reply_arrives_once(
    world: Customerside,
) -> None:
    world.sim.fail_next("sendMessage", status=429, retry_after=1)
    world.say("hello")
    [reply] = await world.replies(1)
    assert reply.text
    statuses = [call.status for call in world.sim.calls_to("sendMessage")]
    assert statuses == [429, 200]


@pytest.mark.parametrize(
    ("inject", "expected"),
    [
        (lambda sim, chat: sim.send_sticker(chat), "I can only read text"),
        (lambda sim, chat: sim.send_photo(chat, caption="see this"), "I can only read text"),
        (lambda sim, chat: sim.send_voice(chat), "I can only read text"),
        (
            lambda sim, chat: sim.send_location(chat, latitude=52.5, longitude=13.4),
            "I can only read text",
        ),
        (lambda sim, chat: sim.send_command(chat, "/frobnicate"), "/frobnicate"),
    ],
)
async def test_bad_input_gets_a_defined_reply(
    world: Customerside, inject: object, expected: str
) -> None:
    assert callable(inject)
    inject(world.sim, world.chat)
    [reply] = await world.replies(1)
    assert expected in reply.text


async def test_an_edit_is_explained_not_answered_twice(world: Customerside) -> None:
    sent = world.sim.send_text(world.chat, "I forgot my pasword")
    await world.replies(1)
    assert sent.message_id is not None
    world.sim.edit_text(world.chat, sent.message_id, "I forgot my password")
    [_, reply] = await world.replies(2)
    assert "edited" in reply.text


async def test_a_group_chat_gets_one_notice(world: Customerside) -> None:
    group = -1009000 - world.chat
    for text in ("hi bot", "hello?", "anyone"):
        world.sim.send_text(group, text, chat_type="group")
    [notice] = await world.sim.wait_for_messages(group, 1)
    assert "private chats" in notice.text
    world.sim.send_text(world.chat, "hello")  # a later private message still works...
    await world.replies(1)
    assert len(world.sim.messages_to(group)) == 1  # ...and the group heard only once
