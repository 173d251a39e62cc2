"""The conversation engine and the handoff desk, with real storage (SQLite), real live state,
the real policy and replies, and hand-written fakes of the chat platforms."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from handoff.agent_texts import load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine import NLU_MAX_CHARS, ConversationEngine
from handoff.errors import FailureCause, LockTimeout
from handoff.model import (
    Agent,
    AgentAction,
    AgentCommand,
    AgentReply,
    Attachment,
    Author,
    CardStatus,
    ChatType,
    ConversationKey,
    Customer,
    DeskThread,
    HandoffTicket,
    Inbound,
    MessageKind,
    Mode,
    Receipt,
)
from handoff.policy import FrustrationDetector, PolicyConfig
from handoff.policy.meaning import MeaningHead, Vectors
from handoff.responses import load_responses
from handoff.state import InMemoryLiveState
from handoff.storage import (
    Database,
    Delivery,
    HandoffEventKind,
    Repository,
    StoredMessage,
)
from tests.support.fakes import ProcessDied, RecordingChannel, RecordingDesk, ScriptedNlu

REPO = Path(__file__).resolve().parents[2]
CUSTOMER = Customer(user_id="501", display_name="Ada Lovelace", username="ada")
KEY = ConversationKey("telegram", "501")
ALICE = Agent("U0AGENT1", "Alice Agent")
BOB = Agent("U0AGENT2", "Bob Builder")

NLU_TABLE = {
    "hello": [("greet", 0.95), ("thanks", 0.02)],
    "I forgot my password": [("reset_password", 0.93), ("login_problem", 0.04)],
    "where is my order ORD-48213": [("order_status", 0.97), ("billing_question", 0.01)],
    "blorp zzz": [("out_of_scope", 0.3), ("greet", 0.2)],
    "hmm the thing with the stuff": [("billing_question", 0.31), ("bug_report", 0.29)],
    "how do I cancel": [("cancel_subscription", 0.91), ("billing_question", 0.04)],
    "I want my money back": [("refund_request", 0.9), ("billing_question", 0.05)],
    "let me talk to a human": [("human_request", 0.96), ("complaint", 0.02)],
    "This is ridiculous, I have been waiting for 3 weeks and nobody helps me!!": [
        ("complaint", 0.7),
        ("order_status", 0.1),
    ],
    "no that didn't help": [("deny", 0.9), ("complaint", 0.05)],
    "thanks": [("thanks", 0.97), ("goodbye", 0.01)],
}


@dataclass
class World:
    repository: Repository
    state: InMemoryLiveState
    channel: RecordingChannel
    desk: RecordingDesk
    nlu: ScriptedNlu
    engine: ConversationEngine
    handoffs: HandoffDesk
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def event(self, kind: MessageKind = MessageKind.TEXT, **values: object) -> Inbound:
        defaults: dict[str, object] = {
            "key": KEY,
            "customer": CUSTOMER,
            "message_id": str(next(self.ids)),
            "kind": kind,
            "sent_at": datetime.now(UTC),
        }
        return Inbound(**{**defaults, **values})  # type: ignore[arg-type]

    async def say(self, text: str) -> None:
        await self.engine.handle(self.event(text=text))

    async def press(self, data: str) -> Inbound:
        press = self.event(MessageKind.BUTTON, button=data, button_message_id="1000")
        await self.engine.handle(press)
        return press

    async def command(self, name: str, args: str | None = None) -> None:
        await self.engine.handle(self.event(MessageKind.COMMAND, command=name, text=args))

    def replies(self) -> list[str]:
        return self.channel.texts(KEY)

    async def live_mode(self) -> Mode | None:
        live = await self.state.get(KEY)
        return live.mode if live else None

    async def messages(self) -> list[tuple[Author, str | None]]:
        conversation = await self.repository.get_open_conversation(
            channel="telegram", chat_id="501"
        )
        assert conversation is not None
        stored = await self.repository.recent_messages(conversation.id, limit=100)
        return [(m.author, m.text) for m in stored]

    async def stored(self, text: str) -> StoredMessage:
        """The stored message with this text (the last, if several)."""
        conversation = await self.repository.get_open_conversation(
            channel="telegram", chat_id="501"
        )
        assert conversation is not None
        stored = await self.repository.recent_messages(conversation.id, limit=100)
        return [m for m in stored if m.text == text][-1]

    async def redeliver(self) -> int:
        return await self.handoffs.redeliver_pending(older_than=timedelta(0))

    @property
    def thread(self) -> DeskThread:
        return DeskThread(channel=self.desk.channel, thread_ts="1700000000.000001")


def build_engine(repository: Repository, state: InMemoryLiveState, **parts: object) -> World:
    channel = parts.get("channel") or RecordingChannel()
    desk = parts.get("desk") or RecordingDesk()
    nlu = parts.get("nlu") or ScriptedNlu(table=NLU_TABLE)
    assert isinstance(channel, RecordingChannel)
    assert isinstance(desk, RecordingDesk)
    assert isinstance(nlu, ScriptedNlu)
    responses = load_responses(REPO / "config" / "responses.yml", rng=random.Random(7))
    conversations = Conversations(repository=repository, state=state, channel=channel)
    clock = parts.get("clock") or (lambda: datetime.now(UTC))
    handoffs = HandoffDesk(
        conversations=conversations,
        desk=desk,
        responses=responses,
        texts=TEXTS,
        clock=clock,  # type: ignore[arg-type]
    )
    engine = ConversationEngine(
        conversations=conversations,
        desk=handoffs,
        nlu=nlu,
        responses=responses,
        policy=PolicyConfig(),
        detector=parts.get("detector") or DETECTOR,  # type: ignore[arg-type]
    )
    return World(repository, state, channel, desk, nlu, engine, handoffs)


DETECTOR = FrustrationDetector()
TEXTS = load_agent_texts(REPO / "config" / "agents.yml")


@pytest.fixture
async def world(database: Database) -> World:
    return build_engine(Repository(database=database), InMemoryLiveState())


# --- the bot answers -------------------------------------------------------------------------


async def test_start_discloses_the_bot_and_offers_a_person(world: World) -> None:
    await world.command("start")
    [reply] = world.channel.sent
    assert "automated assistant" in reply.text
    assert "a bot, not a person" in reply.text
    assert "/human" in reply.text
    assert reply.text.startswith("Hi Ada!")
    assert [[b.data for b in row] for row in reply.buttons] == [["human"]]


async def test_a_greeting_is_answered(world: World) -> None:
    await world.say("hello")
    [reply] = world.replies()
    assert reply  # one of the greet variants
    assert await world.live_mode() is Mode.BOT


async def test_a_routine_question_is_answered_from_the_responses_file(world: World) -> None:
    await world.say("I forgot my password")
    [reply] = world.replies()
    assert "Forgot password?" in reply
    live = await world.state.get(KEY)
    assert live is not None
    assert live.last_answered_intent == "reset_password"
    messages = await world.messages()
    assert messages[0] == (Author.CUSTOMER, "I forgot my password")
    assert messages[1][0] is Author.BOT


async def test_entities_fill_the_reply(world: World) -> None:
    world.nlu.entities = {"where is my order ORD-48213": [("order_id", "ORD-48213")]}
    await world.say("where is my order ORD-48213")
    assert "order ORD-48213" in world.replies()[0]


async def test_the_customer_message_carries_intent_confidence_and_decision(world: World) -> None:
    await world.say("I forgot my password")
    conversation = await world.repository.get_open_conversation(channel="telegram", chat_id="501")
    assert conversation is not None
    [customer, _bot] = await world.repository.recent_messages(conversation.id, limit=10)
    assert customer.intent == "reset_password"
    assert customer.confidence == pytest.approx(0.93)
    assert customer.nlu is not None
    assert customer.nlu["ranking"][0] == {"intent": "reset_password", "confidence": 0.93}
    assert customer.decision is not None
    assert customer.decision["action"] == "answer"


# --- the two-turn rule -------------------------------------------------------------------------


async def test_two_failed_turns_in_a_row_hand_off(world: World) -> None:
    await world.say("blorp zzz")
    assert "rephrase" in world.replies()[-1] or "say it another way" in world.replies()[-1]
    assert await world.live_mode() is Mode.BOT
    await world.say("hmm the thing with the stuff")
    assert await world.live_mode() is Mode.WAITING
    assert "person" in world.replies()[-1]
    [ticket] = world.desk.tickets
    assert ticket.reason == "failed_turns"
    assert ticket.customer == CUSTOMER
    # What the NLU saw on both failed turns is on the card.
    assert [t.text for t in ticket.failed_turns] == ["blorp zzz", "hmm the thing with the stuff"]
    assert ticket.failed_turns[1].intents[:2] == (("billing_question", 0.31), ("bug_report", 0.29))
    handoff = await world.repository.open_handoff_for(ticket.conversation_id)
    assert handoff is not None
    assert handoff.reason == "failed_turns"
    assert handoff.agent_thread_ts is not None
    events = await world.repository.handoff_events(handoff.id)
    assert [e.kind for e in events] == [HandoffEventKind.REQUESTED]


async def test_one_failed_turn_then_a_resolved_one_does_not_hand_off(world: World) -> None:
    await world.say("blorp zzz")
    await world.say("I forgot my password")
    live = await world.state.get(KEY)
    assert live is not None
    assert live.mode is Mode.BOT
    assert live.failed_turns == 0
    await world.say("blorp zzz")  # a new first failure: clarify again, no handoff
    assert await world.live_mode() is Mode.BOT
    assert world.desk.tickets == []


async def test_that_did_not_help_after_an_answer_counts_as_a_failed_turn(world: World) -> None:
    await world.say("I forgot my password")
    await world.say("no that didn't help")
    live = await world.state.get(KEY)
    assert live is not None
    assert live.failed_turns == 1
    await world.say("blorp zzz")
    assert await world.live_mode() is Mode.WAITING


async def test_frustration_hands_off_at_once(world: World) -> None:
    await world.say("This is ridiculous, I have been waiting for 3 weeks and nobody helps me!!")
    assert await world.live_mode() is Mode.WAITING
    [ticket] = world.desk.tickets
    assert ticket.reason == "frustrated"
    assert ticket.frustration > 0.5
    assert "frustrating" in world.replies()[-1]


class ThreadNotingEncoder:
    """A sentence encoder that notes the thread of every call; each message reads as a
    complaint (the first of 3 dimensions)."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.threads.extend(threading.get_ident() for _ in texts)
        return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))


async def test_the_frustration_model_reads_the_message_off_the_event_loop(
    database: Database,
) -> None:
    # Encoding is CPU work (MiniLM: milliseconds a message): on the event loop's thread it
    # stalled every other conversation, whenever the NLU had not read the same text (a
    # masked one, or an NLU without the encoder).
    encoder = ThreadNotingEncoder()
    upset = MeaningHead(
        encoder="notes",
        embedding=np.array([9.0, 0.0, 0.0]),
        words=0.0,
        sentiment=(0.0, 0.0, 0.0, 0.0),
        intercept=0.0,
    )
    detector = FrustrationDetector(encoder=encoder, head=upset)
    encoder.threads.clear()  # the detector's start read one text to check the dimensions
    world = build_engine(Repository(database=database), InMemoryLiveState(), detector=detector)

    await world.say("where is my order ORD-48213")

    assert encoder.threads  # the meaning head read the message...
    assert threading.get_ident() not in encoder.threads  # ...in a worker thread
    [ticket] = world.desk.tickets  # and what it read decided the turn
    assert ticket.reason == "frustrated"


async def test_asking_for_a_person_in_words_hands_off(world: World) -> None:
    await world.say("let me talk to a human")
    assert world.desk.tickets[0].reason == "person_requested"


async def test_the_person_button_hands_off_at_once(world: World) -> None:
    press = await world.press("human")
    assert await world.live_mode() is Mode.WAITING
    assert world.desk.tickets[0].reason == "person_requested"
    assert world.channel.answers[0].press_id == press.message_id


async def test_the_human_command_hands_off_at_once(world: World) -> None:
    await world.command("human")
    assert await world.live_mode() is Mode.WAITING
    assert world.desk.tickets[0].reason == "person_requested"


async def test_a_human_only_topic_hands_off_at_once(world: World) -> None:
    await world.say("I want my money back")
    assert world.desk.tickets[0].reason == "human_only_topic"


async def test_nlu_down_hands_off_and_keeps_the_message(world: World) -> None:
    world.nlu.down = True
    await world.say("I forgot my password")
    assert world.desk.tickets[0].reason == "nlu_unavailable"
    assert "technical trouble" in world.replies()[-1]
    assert (Author.CUSTOMER, "I forgot my password") in await world.messages()


async def test_after_a_handoff_the_bot_is_quiet_and_messages_reach_the_agents(
    world: World,
) -> None:
    await world.command("human")
    replies_before = len(world.replies())
    await world.say("hello?")
    await world.say("I forgot my password")
    assert len(world.replies()) == replies_before
    assert [relay.text for _, relay, _ in world.desk.relays] == ["hello?", "I forgot my password"]
    messages = await world.messages()
    assert (Author.CUSTOMER, "hello?") in messages
    await world.command("human")  # asking again: told honestly that a person is coming
    assert "has been asked to join" in world.replies()[-1]


async def test_photos_and_documents_reach_the_agents_with_their_bytes(world: World) -> None:
    await world.command("human")
    world.channel.files = {"photo-1": b"\x89PNG photo", "doc-1": b"%PDF invoice"}
    photo = Attachment(file_id="photo-1", size=11)
    document = Attachment(file_id="doc-1", file_name="invoice.pdf")
    await world.engine.handle(world.event(MessageKind.PHOTO, text="the damage", attachment=photo))
    await world.engine.handle(world.event(MessageKind.DOCUMENT, attachment=document))
    # Voice and the like are described to agents, not fetched.
    await world.engine.handle(world.event(MessageKind.VOICE, attachment=Attachment("voice-1")))

    relays = [relay for _, relay, _ in world.desk.relays]
    assert [(r.kind, r.text, r.attachment, r.content) for r in relays] == [
        (MessageKind.PHOTO, "the damage", photo, b"\x89PNG photo"),
        (MessageKind.DOCUMENT, None, document, b"%PDF invoice"),
        (MessageKind.VOICE, None, Attachment("voice-1"), None),
    ]
    assert world.channel.downloads == [photo, document]


async def test_a_file_that_cannot_be_fetched_is_still_relayed_as_a_note(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.command("human")
    gone = Attachment(file_id="expired", file_name="invoice.pdf")

    await world.engine.handle(world.event(MessageKind.DOCUMENT, text="my invoice", attachment=gone))

    [(_, relay, _)] = world.desk.relays
    assert (relay.kind, relay.text, relay.attachment, relay.content) == (
        MessageKind.DOCUMENT,
        "my invoice",
        gone,
        None,
    )
    assert "file expired cannot be fetched" in caplog.text
    assert (Author.CUSTOMER, "my invoice") in await world.messages()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        MessageKind.STICKER,
        MessageKind.PHOTO,
        MessageKind.VOICE,
        MessageKind.DOCUMENT,
        MessageKind.LOCATION,
        MessageKind.VIDEO,
        MessageKind.OTHER,
    ],
)
async def test_media_gets_a_defined_reply_and_is_stored(world: World, kind: MessageKind) -> None:
    await world.engine.handle(
        world.event(kind, text="caption", attachment=Attachment(file_id="f1"))
    )
    [reply] = world.channel.sent
    assert "I can only read text" in reply.text
    assert await world.messages() == [(Author.CUSTOMER, "caption"), (Author.BOT, reply.text)]


async def test_an_edited_message_is_stored_and_explained(world: World) -> None:
    first = world.event(text="I forgot my pasword")
    await world.engine.handle(first)
    edit = world.event(text="I forgot my password", message_id=first.message_id, edited=True)
    await world.engine.handle(edit)
    assert "edited" in world.replies()[-1]
    texts = [text for _, text in await world.messages()]
    assert "I forgot my pasword" in texts
    assert "I forgot my password" in texts


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_an_empty_message_gets_a_defined_reply(world: World, text: str) -> None:
    await world.say(text)
    assert "empty" in world.replies()[-1]
    assert world.nlu.seen == []


async def test_a_text_over_4096_characters_is_stored_whole_and_read_in_part(
    world: World,
) -> None:
    long_text = "I forgot my password " + "x" * 6000
    await world.say(long_text)
    assert len(world.nlu.seen[0]) == NLU_MAX_CHARS
    assert (Author.CUSTOMER, long_text) in await world.messages()
    assert len(world.replies()) == 1


async def test_an_unknown_command_is_explained(world: World) -> None:
    await world.command("frobnicate", "now")
    assert "I don't know the command /frobnicate" in world.replies()[-1]


async def test_a_stale_button_is_answered_and_nothing_else_happens(world: World) -> None:
    await world.press("something-old:42")
    assert world.channel.answers[-1].text is not None
    assert "no longer active" in world.channel.answers[-1].text
    assert world.replies() == []
    assert world.desk.tickets == []


async def test_group_chats_get_one_notice_and_nothing_is_stored(world: World) -> None:
    group = ConversationKey("telegram", "-100200")
    for text in ("hello", "anyone?", "I forgot my password"):
        await world.engine.handle(world.event(key=group, chat_type=ChatType.GROUP, text=text))
    texts = world.channel.texts(group)
    assert len(texts) == 1
    assert "private chats" in texts[0]
    assert (
        await world.repository.get_open_conversation(channel="telegram", chat_id="-100200") is None
    )


async def test_a_repeated_update_is_handled_once(world: World) -> None:
    event = world.event(text="I forgot my password")
    await world.engine.handle(event)
    await world.engine.handle(event)
    assert len(world.replies()) == 1
    assert len(await world.messages()) == 2


async def test_an_undeliverable_reply_is_still_recorded(world: World) -> None:
    world.channel.refuse = "Forbidden: bot was blocked by the user"
    await world.say("hello")
    conversation = await world.repository.get_open_conversation(channel="telegram", chat_id="501")
    assert conversation is not None
    [customer, bot] = await world.repository.recent_messages(conversation.id, limit=10)
    assert customer.text == "hello"
    assert bot.author is Author.BOT
    assert bot.decision is not None
    assert bot.decision["undelivered"] == "Forbidden: bot was blocked by the user"


# --- agents --------------------------------------------------------------------------------


async def handed_off(world: World) -> DeskThread:
    await world.command("human")
    handoff = await world.repository.open_handoff_for(world.desk.tickets[0].conversation_id)
    assert handoff is not None
    assert handoff.agent_channel is not None
    assert handoff.agent_thread_ts is not None
    return DeskThread(channel=handoff.agent_channel, thread_ts=handoff.agent_thread_ts)


async def test_an_agent_reply_reaches_the_customer_introduced_the_first_time(
    world: World,
) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hi Ada, I can help.", "1.1"))
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Which email do you use?", "1.2"))
    assert world.replies()[-3:] == [
        "Alice Agent from our support team has joined the chat.",
        "Hi Ada, I can help.",
        "Which email do you use?",
    ]
    assert await world.live_mode() is Mode.HUMAN
    # Each reply marked delivered where the agent typed it.
    assert world.desk.reactions == [("1.1", Receipt.DELIVERED), ("1.2", Receipt.DELIVERED)]
    handoff = await world.repository.open_handoff_for(world.desk.tickets[0].conversation_id)
    assert handoff is not None
    assert handoff.agent_id == ALICE.user_id
    assert world.desk.cards[-1][1].status is CardStatus.CLAIMED


async def test_a_repeated_agent_event_is_relayed_once(world: World) -> None:
    thread = await handed_off(world)
    reply = AgentReply(thread, ALICE, "Hi!", "1.1")
    await world.handoffs.agent_reply(reply)
    await world.handoffs.agent_reply(reply)
    assert world.replies().count("Hi!") == 1


async def test_ownership_stays_until_claim_is_pressed_again(world: World) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello", "1.1"))
    await world.handoffs.agent_reply(AgentReply(thread, BOB, "Adding a detail", "1.2"))
    assert "Adding a detail" in world.replies()
    conversation_id = world.desk.tickets[0].conversation_id
    handoff = await world.repository.open_handoff_for(conversation_id)
    assert handoff is not None
    assert handoff.agent_id == ALICE.user_id
    await world.handoffs.agent_action(AgentAction(thread, BOB, AgentCommand.CLAIM))
    handoff = await world.repository.open_handoff_for(conversation_id)
    assert handoff is not None
    assert handoff.agent_id == BOB.user_id
    kinds = [e.kind for e in await world.repository.handoff_events(handoff.id)]
    assert kinds == [
        HandoffEventKind.REQUESTED,
        HandoffEventKind.CLAIMED,
        HandoffEventKind.TRANSFERRED,
    ]
    assert world.desk.cards[-1][1].owner == BOB


async def test_return_to_bot_resets_the_count_and_tells_the_customer(world: World) -> None:
    await world.say("blorp zzz")
    thread = await handed_off(world)
    await world.handoffs.agent_action(AgentAction(thread, ALICE, AgentCommand.RETURN))
    live = await world.state.get(KEY)
    assert live is not None
    assert (live.mode, live.failed_turns, live.handoff_id) == (Mode.BOT, 0, None)
    assert "back with the automated assistant" in world.replies()[-1]
    await world.say("I forgot my password")
    assert "Forgot password?" in world.replies()[-1]
    assert world.desk.cards[-1][1].status is CardStatus.RETURNED


async def test_close_asks_for_a_rating_and_the_rating_is_stored(world: World) -> None:
    thread = await handed_off(world)
    conversation_id = world.desk.tickets[0].conversation_id
    await world.handoffs.agent_action(AgentAction(thread, ALICE, AgentCommand.CLOSE))
    closing = world.channel.sent[-1]
    assert "rate" in closing.text
    assert [b.data for b in closing.buttons[0]] == [
        f"rate:{conversation_id}:{n}" for n in range(1, 6)
    ]
    conversation = await world.repository.get_conversation(conversation_id)
    assert conversation is not None
    assert conversation.mode is Mode.CLOSED
    await world.press(f"rate:{conversation_id}:4")
    conversation = await world.repository.get_conversation(conversation_id)
    assert conversation is not None
    assert conversation.rating == 4
    assert world.desk.cards[-1][1].rating == 4
    assert world.desk.cards[-1][1].status is CardStatus.CLOSED
    await world.press(f"rate:{conversation_id}:1")
    assert world.channel.answers[-1].text == "You've already rated this conversation. Thank you!"
    handoff = await world.repository.latest_handoff_for(conversation_id)
    assert handoff is not None
    kinds = [e.kind for e in await world.repository.handoff_events(handoff.id)]
    assert kinds[-2:] == [HandoffEventKind.CLOSED, HandoffEventKind.RATED]
    # The next message starts a new conversation with the bot.
    await world.say("hello")
    assert await world.live_mode() is Mode.BOT


async def test_actions_on_a_closed_handoff_are_refused_politely(world: World) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_action(AgentAction(thread, ALICE, AgentCommand.CLOSE))
    await world.handoffs.agent_action(AgentAction(thread, BOB, AgentCommand.CLAIM))
    assert world.desk.told[-1][2].startswith("Nothing to do: Handoff #")
    await world.handoffs.agent_reply(AgentReply(thread, BOB, "late", "9.9"))
    assert "not sent" in world.desk.told[-1][2]
    assert "late" not in world.replies()


async def test_a_restart_in_the_middle_of_a_handoff_loses_nothing(
    world: World, database: Database
) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hi", "1.1"))
    # A new process: empty live state, same database, same platforms.
    again = build_engine(
        Repository(database=database), InMemoryLiveState(), channel=world.channel, desk=world.desk
    )
    again.ids = itertools.count(100)  # Telegram's message ids go on from where they were
    assert await again.engine.restore_live_state() == 1
    assert await again.live_mode() is Mode.HUMAN
    await again.say("thanks")  # still with the person: relayed, not answered by the bot
    assert world.desk.relays[-1][1].text == "thanks"
    await again.handoffs.agent_reply(AgentReply(thread, ALICE, "You're welcome", "1.2"))
    assert world.replies()[-1] == "You're welcome"
    assert world.replies().count("Alice Agent from our support team has joined the chat.") == 1


async def test_a_desk_outage_posts_the_card_with_the_next_message(world: World) -> None:
    world.desk.fail_open = True
    await world.command("human")
    assert world.desk.tickets == []
    world.desk.fail_open = False
    await world.say("are you there?")
    assert len(world.desk.tickets) == 1
    assert world.desk.relays[-1][1].text == "are you there?"


@dataclass
class ThreadCheckingDesk(RecordingDesk):
    """Notes, when asked for what follows a card, whether the card's thread was recorded."""

    repository: Repository | None = None
    recorded_then: list[bool] = field(default_factory=list)

    async def follow_card(self, thread: DeskThread, ticket: HandoffTicket) -> None:
        assert self.repository is not None
        found = await self.repository.locate_thread(
            agent_channel=thread.channel, thread_ts=thread.thread_ts
        )
        self.recorded_then.append(found is not None)
        await super().follow_card(thread, ticket)


async def test_a_cards_thread_is_recorded_before_what_follows_the_card(
    database: Database,
) -> None:
    # Offers (to teach the bot, to reveal masked data) follow a card, a Slack post each:
    # posted first, they kept agents acting in the thread (and the SLA ladder) from finding
    # the handoff for as long as they took.
    repository = Repository(database=database)
    desk = ThreadCheckingDesk(repository=repository)
    world = build_engine(repository, InMemoryLiveState(), desk=desk)

    await world.command("human")
    assert desk.recorded_then == [True]
    [(_thread, ticket)] = desk.followed
    assert ticket == desk.tickets[0]

    desk.fail_open = True  # another customer's card waits for their next message
    other = ConversationKey("telegram", "502")
    await world.engine.handle(world.event(MessageKind.COMMAND, command="human", key=other))
    desk.fail_open = False
    await world.engine.handle(world.event(text="hello?", key=other))
    assert desk.recorded_then == [True, True]


async def test_a_conversation_held_too_long_is_left_for_the_intake_to_retry(
    database: Database,
) -> None:
    state = InMemoryLiveState(lock_timeout=0.2)
    world = build_engine(Repository(database=database), state)
    await world.say("hello")
    async with state.lock(KEY):  # something else holds the conversation, far too long
        with pytest.raises(LockTimeout):  # a StateError: the intake tries again later
            await world.say("I forgot my password")
    assert len(world.replies()) == 1
    await world.engine.handle(world.event(message_id="again", text="I forgot my password"))
    assert len(world.replies()) == 2


# --- the outbox: stored, then delivered exactly once -------------------------------------------


async def test_delivered_messages_are_marked_with_their_platform_ids(world: World) -> None:
    thread = await handed_off(world)
    await world.say("my order is late")
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Looking into it", "1.1"))

    customer = await world.stored("my order is late")
    agent = await world.stored("Looking into it")
    assert customer.delivery is Delivery.DELIVERED
    assert customer.decision == {"sent_id": "1700000001.000001"}
    assert agent.delivery is Delivery.DELIVERED
    assert agent.decision is not None
    assert agent.decision["sent_id"]
    assert (await world.stored("/human")).delivery is None  # the bot's business, not relayed
    assert await world.redeliver() == 0
    assert world.replies().count("Looking into it") == 1
    assert len(world.desk.relays) == 1


async def test_an_agent_reply_stored_before_a_crash_is_delivered_once_by_redelivery(
    world: World,
) -> None:
    thread = await handed_off(world)
    # The previous process stored the reply and died before sending it.
    world.channel.crash = True
    with pytest.raises(ProcessDied):
        await world.handoffs.agent_reply(
            AgentReply(thread, ALICE, "Your refund is on its way.", "1.1")
        )
    world.channel.crash = False

    assert await world.redeliver() == 1
    assert await world.redeliver() == 0

    assert world.replies()[-2:] == [
        "Alice Agent from our support team has joined the chat.",
        "Your refund is on its way.",
    ]
    assert world.replies().count("Your refund is on its way.") == 1
    assert (await world.stored("Your refund is on its way.")).delivery is Delivery.DELIVERED


async def test_a_customer_message_the_desk_could_not_take_is_posted_later_once(
    world: World,
) -> None:
    await handed_off(world)
    world.desk.fail_relays = 1
    await world.say("are you there?")
    assert world.desk.relays == []
    assert (await world.stored("are you there?")).delivery is Delivery.PENDING

    assert await world.redeliver() == 1
    assert await world.redeliver() == 0

    assert [relay.text for _, relay, _ in world.desk.relays] == ["are you there?"]
    assert world.desk.relays[0][2] == CUSTOMER
    assert (await world.stored("are you there?")).delivery is Delivery.DELIVERED


async def test_redelivery_posts_a_missing_card_before_the_message(world: World) -> None:
    world.desk.fail_open = True
    await world.command("human")
    await world.say("hello?")  # no thread to show it in yet
    world.desk.fail_open = False

    assert await world.redeliver() == 1

    assert len(world.desk.tickets) == 1
    assert [relay.text for _, relay, _ in world.desk.relays] == ["hello?"]


async def test_a_reply_refused_for_good_is_never_retried(world: World) -> None:
    thread = await handed_off(world)
    world.channel.refuse = "Forbidden: bot was blocked by the user"
    world.channel.refuse_cause = FailureCause.BLOCKED
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello?", "1.1"))
    # Where the agent typed: the failed reaction on the reply and the cause in words.
    assert world.desk.reactions == [("1.1", Receipt.FAILED)]
    assert world.desk.notes[-1][1] == (
        "Alice Agent's reply was not delivered: the customer has blocked the bot. It reaches them "
        "only if they unblock it and write again."
    )
    stored = await world.stored("Hello?")
    assert stored.delivery is Delivery.FAILED
    assert stored.decision == {
        "undelivered": "Forbidden: bot was blocked by the user",
        "cause": "blocked",
    }

    world.channel.refuse = None  # unblocked later: still not sent again
    assert await world.redeliver() == 0
    assert "Hello?" not in world.replies()


async def test_an_agents_edit_and_deletion_reach_the_customer_the_record_keeps_all(
    world: World,
) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Your refund is 50 EUR.", "1.1"))
    sent_id = ((await world.stored("Your refund is 50 EUR.")).decision or {})["sent_id"]

    edit = AgentReply(thread, ALICE, "Your refund is 40 EUR.", "1.5", revises="1.1")
    await world.handoffs.agent_reply(edit)
    await world.handoffs.agent_reply(edit)  # a replayed event changes nothing more
    await world.handoffs.agent_reply(
        AgentReply(thread, ALICE, "", "1.6", revises="1.1", deleted=True)
    )

    assert world.channel.edits == [(sent_id, "Your refund is 40 EUR.")]
    assert world.channel.deletions == [sent_id]
    assert [text for _, text in world.desk.notes[-2:]] == [
        "Alice Agent edited a reply: the customer now sees the new text.",
        "Alice Agent deleted a reply: it is deleted in the customer's chat too.",
    ]
    original = await world.stored("Your refund is 50 EUR.")  # the original text is kept
    revisions = (original.decision or {})["revisions"]
    assert [(r["text"], r["deleted"], r["by"]) for r in revisions] == [
        ("Your refund is 40 EUR.", False, ALICE.user_id),
        (None, True, ALICE.user_id),
    ]


async def test_an_edit_telegram_refuses_is_noted_and_not_recorded(world: World) -> None:
    thread = await handed_off(world)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello", "1.1"))
    world.channel.refuse = "Bad Request: message can't be deleted for everyone"
    await world.handoffs.agent_reply(
        AgentReply(thread, ALICE, "", "1.2", revises="1.1", deleted=True)
    )

    assert world.desk.notes[-1][1] == (
        "Alice Agent's change to a reply did not reach the customer: "
        "Bad Request: message can't be deleted for everyone"
    )
    assert "revisions" not in ((await world.stored("Hello")).decision or {})


async def test_an_edit_of_a_note_or_an_unknown_message_is_ignored(world: World) -> None:
    thread = await handed_off(world)
    notes = len(world.desk.notes)
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "new", "1.2", revises="9.9"))
    assert world.channel.edits == []
    assert len(world.desk.notes) == notes


async def test_a_customers_edit_is_shown_in_place_of_the_earlier_post(world: World) -> None:
    await handed_off(world)
    first = world.event(text="my order is 1234")
    await world.engine.handle(first)
    await world.engine.handle(
        world.event(text="my order is 1243", message_id=first.message_id, edited=True)
    )

    (_, before, _), (_, after, _) = world.desk.relays[-2:]
    assert (before.text, before.replaces) == ("my order is 1234", None)
    assert (after.text, after.edited) == ("my order is 1243", True)
    assert after.replaces == "1700000001.000001"  # the post that showed the first text
    texts = [text for _, text in await world.messages()]
    assert "my order is 1234" in texts  # the record keeps the original


async def test_a_reply_to_a_customer_who_blocked_the_bot_can_be_retried(world: World) -> None:
    thread = await handed_off(world)
    world.channel.refuse = "Forbidden: bot was blocked by the user"
    world.channel.refuse_cause = FailureCause.BLOCKED
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello?", "1.1"))
    [offered] = world.desk.retries
    world.channel.refuse = None  # the customer unblocked the bot

    retry = AgentAction(thread, BOB, AgentCommand.RETRY, message_id=offered)
    await world.handoffs.agent_action(retry)
    await world.handoffs.agent_action(retry)  # pressed twice: sent once

    assert world.replies().count("Hello?") == 1
    assert world.desk.reactions == [("1.1", Receipt.FAILED), ("1.1", Receipt.DELIVERED)]
    assert (await world.stored("Hello?")).delivery is Delivery.DELIVERED
    assert world.desk.notes[-1][1] == "Bob Builder is sending the reply again."
    assert world.desk.told[-1][2].startswith("That reply cannot be sent again")


async def test_a_retried_reply_is_not_introduced_again(world: World) -> None:
    thread = await handed_off(world)
    world.channel.refuse = "Telegram could not be reached"
    world.channel.refuse_cause = FailureCause.UNREACHABLE
    world.channel.refuse_only = "Hello?"  # the introduction before it goes out
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello?", "1.1"))
    [offered] = world.desk.retries
    world.channel.refuse = None

    await world.handoffs.agent_action(
        AgentAction(thread, BOB, AgentCommand.RETRY, message_id=offered)
    )

    intro = "Alice Agent from our support team has joined the chat."
    assert world.replies()[-2:] == [intro, "Hello?"]
    assert world.replies().count(intro) == 1
    assert (await world.stored("Hello?")).delivery is Delivery.DELIVERED


async def test_a_reply_telegram_refused_is_not_offered_again(world: World) -> None:
    thread = await handed_off(world)
    world.channel.refuse = "Bad Request: message is too long"
    await world.handoffs.agent_reply(AgentReply(thread, ALICE, "Hello?", "1.1"))
    assert world.desk.retries == []
    assert "Telegram refused it" in world.desk.notes[-1][1]


async def test_an_agent_retracts_the_bots_last_answer_from_the_card(world: World) -> None:
    await world.say("how do I cancel")  # answered by the bot
    [answer] = world.channel.sent
    thread = await handed_off(world)
    answer_id = str(1000)  # the channel's first message id

    retract = AgentAction(thread, ALICE, AgentCommand.RETRACT)
    await world.handoffs.agent_action(retract)
    await world.handoffs.agent_action(retract)  # nothing left to retract

    assert world.channel.deletions == [answer_id]
    assert world.desk.notes[-1][1] == (
        "Alice Agent retracted the bot's last answer: it is deleted in the customer's chat."
    )
    assert world.desk.told[-1][2] == "The bot has no answer in this conversation left to retract."
    stored = await world.stored(answer.text)  # kept in the record, marked
    assert stored.delivery is Delivery.RETRACTED
    assert (stored.decision or {})["retracted"]["by"] == ALICE.user_id


async def test_recent_pending_messages_are_left_to_their_first_attempt(world: World) -> None:
    await handed_off(world)
    world.desk.fail_relays = 1
    await world.say("are you there?")

    assert await world.handoffs.redeliver_pending(older_than=timedelta(minutes=1)) == 0

    assert world.desk.relays == []
    assert (await world.stored("are you there?")).delivery is Delivery.PENDING
