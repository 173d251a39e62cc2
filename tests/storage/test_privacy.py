"""Personal data in SQL, on SQLite and PostgreSQL: a customer with two closed handoffs
exported and erased (with the thread copies, and an audit entry without content), texts
past the retention period removed with the counts and times kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from handoff.agent_texts import load_agent_texts
from handoff.model import (
    Agent,
    Author,
    ConversationKey,
    DeskThread,
    LiveConversation,
    MessageKind,
)
from handoff.privacy import Masker, build_scanner
from handoff.privacy.audit import PrivacyEventKind
from handoff.privacy.reveal import Revealer, RevealRequest
from handoff.privacy.rights import CustomerRights, UnknownCustomer
from handoff.records import Delivery, HandoffEventKind, HandoffOutcome, NewMessage, Platform
from handoff.responses import Responses, load_responses
from handoff.state.memory import InMemoryLiveState
from handoff.storage import Customer, Database, Repository
from handoff.storage.privacy_queries import PrivacyStore
from tests.storage.conftest import START, StepClock
from tests.support.fakes import RecordingDesk

CARD = "4111 1111 1111 1111"
REPO = Path(__file__).resolve().parents[2]
WORDS: Responses = load_responses(REPO / "config" / "responses.yml")


class RecordingCleaner:
    """A hand-written fake of the Slack thread cleaner."""

    def __init__(self) -> None:
        self.threads: list[DeskThread] = []
        self.files: list[str] = []

    async def delete_thread(self, thread: DeskThread) -> int:
        self.threads.append(thread)
        return 3

    async def delete_file(self, file_id: str) -> None:
        self.files.append(file_id)


async def _closed_handoff(repository: Repository, customer: Customer, n: int) -> None:
    conversation = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id=customer.platform_user_id
    )
    for author, text in ((Author.CUSTOMER, f"my card {CARD}, try {n}"), (Author.BOT, "Sorry")):
        await repository.add_message(
            NewMessage(
                conversation_id=conversation.id,
                author=author,
                platform=Platform.TELEGRAM,
                created_at=START + timedelta(minutes=n),
                text=text,
                nlu={"entities": [{"entity": "card", "value": CARD}]},
            )
        )
    if n == 1:  # a photo, relayed to the thread as a Slack file
        await repository.add_message(
            NewMessage(
                conversation_id=conversation.id,
                author=Author.CUSTOMER,
                platform=Platform.TELEGRAM,
                created_at=START + timedelta(minutes=n),
                kind=MessageKind.PHOTO,
                decision={"sent_id": "F0000001"},
            )
        )
    handoff = await repository.create_handoff(
        conversation_id=conversation.id,
        reason="person_requested",
        reason_detail={"failed_turns": [{"text": f"my card {CARD}", "intents": []}]},
        card={"transcript": [{"author": "customer", "text": f"my card {CARD}"}]},
    )
    await repository.set_handoff_thread(handoff.id, agent_channel="C0AGENTS", thread_ts=f"17.{n}")
    await repository.claim_handoff(handoff.id, agent_id="U1", agent_name="Alice")
    await repository.add_handoff_event(handoff.id, kind=HandoffEventKind.CLAIMED, actor_id="U1")
    await repository.finish_handoff(handoff.id, outcome=HandoffOutcome.CLOSED)
    await repository.close_conversation(conversation.id)


@pytest.fixture
async def grace(repository: Repository) -> Customer:
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="4242", display_name="Grace Hopper"
    )
    await _closed_handoff(repository, customer, 1)
    await _closed_handoff(repository, customer, 2)
    return customer


@pytest.fixture
async def other(repository: Repository) -> Customer:
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="77", display_name="Ada"
    )
    await _closed_handoff(repository, customer, 3)
    return customer


def _rights(
    migrated: Database, clock: Callable[[], datetime], cleaner: RecordingCleaner | None = None
) -> tuple[CustomerRights, PrivacyStore]:
    store = PrivacyStore(database=migrated, clock=clock)
    return CustomerRights(records=store, log=store, cleaner=cleaner, clock=clock), store


async def test_export_holds_everything_about_the_customer(
    migrated: Database, clock: StepClock, grace: Customer, other: Customer
) -> None:
    rights, store = _rights(migrated, clock)
    exported = await rights.export("telegram:4242", words=WORDS)
    assert exported["customer"]["display_name"] == "Grace Hopper"
    conversations = exported["conversations"]
    assert len(conversations) == 2
    assert [len(c["messages"]) for c in conversations] == [3, 2]
    assert [c["handoffs"][0]["outcome"] for c in conversations] == ["closed", "closed"]
    assert CARD in conversations[0]["messages"][0]["text"]
    assert "Ada" not in str(exported)
    again = await rights.export(str(grace.id), words=WORDS)
    assert [e["kind"] for e in again["privacy_events"]] == ["exported"]
    events = await store.events(customer_id=grace.id)
    assert [e.kind for e in events] == [PrivacyEventKind.EXPORTED] * 2


async def test_export_gives_each_message_its_delivery_state_explained(
    migrated: Database, repository: Repository, clock: StepClock
) -> None:
    customer = await repository.get_or_create_customer(
        channel="telegram", platform_user_id="5151", display_name="Lin"
    )
    conversation = await repository.open_conversation(
        customer_id=customer.id, channel="telegram", chat_id="5151"
    )

    async def add(author: Author, text: str, **fields: object) -> int:
        stored = await repository.add_message(
            NewMessage(
                conversation_id=conversation.id,
                author=author,
                platform=Platform.SLACK if author is Author.AGENT else Platform.TELEGRAM,
                created_at=START,
                text=text,
                **fields,  # type: ignore[arg-type]
            )
        )
        assert stored is not None
        return stored.id

    await add(Author.CUSTOMER, "to the bot")
    await add(Author.BOT, "an answer", platform_chat_id="5151", platform_message_id="9")
    await add(Author.BOT, "an answer refused", decision={"undelivered": "bot blocked"})
    retracted = await add(
        Author.BOT, "a wrong answer", platform_chat_id="5151", platform_message_id="10"
    )
    await repository.mark_delivery(retracted, Delivery.RETRACTED, detail={"retracted": {}})
    relayed = await add(Author.CUSTOMER, "for the agent", delivery=Delivery.PENDING)
    await repository.mark_delivery(relayed, Delivery.DELIVERED)
    await add(Author.CUSTOMER, "not relayed yet", delivery=Delivery.PENDING)
    refused = await add(Author.AGENT, "a reply", delivery=Delivery.PENDING)
    await repository.mark_delivery(refused, Delivery.FAILED, detail={"undelivered": "blocked"})
    await add(Author.AGENT, "after the close")

    rights, _ = _rights(migrated, clock)
    exported = await rights.export("telegram:5151", words=WORDS)

    states = [(m["text"], m["delivery"]) for m in exported["conversations"][0]["messages"]]
    assert states == [
        ("to the bot", "received"),
        ("an answer", "delivered"),
        ("an answer refused", "failed"),
        ("a wrong answer", "retracted"),
        ("for the agent", "delivered"),
        ("not relayed yet", "pending"),
        ("a reply", "failed"),
        ("after the close", "not_sent"),
    ]
    legend = exported["delivery_states"]
    assert set(legend) == {state for _, state in states} | {"pending"}
    assert legend["retracted"] == WORDS.system("export_retracted").text
    assert "deleted from your chat" in legend["retracted"]


async def test_erase_removes_the_customer_and_their_thread_copies_and_leaves_an_audit_entry(
    migrated: Database, repository: Repository, clock: StepClock, grace: Customer, other: Customer
) -> None:
    cleaner = RecordingCleaner()
    state = InMemoryLiveState()
    key = ConversationKey("telegram", "4242")
    await state.put(key, LiveConversation(conversation_id=1, recent_texts=(CARD,)))
    store = PrivacyStore(database=migrated, clock=clock)
    rights = CustomerRights(records=store, log=store, cleaner=cleaner, state=state, clock=clock)

    report = await rights.erase("telegram:4242")

    assert cleaner.threads == [DeskThread("C0AGENTS", "17.1"), DeskThread("C0AGENTS", "17.2")]
    assert cleaner.files == ["F0000001"]
    assert report.posts_deleted == 7
    assert (report.erased.conversations, report.erased.messages, report.erased.handoffs) == (
        2,
        5,
        2,
    )
    assert await repository.get_customer(grace.id) is None
    assert await state.get(key) is None
    assert await store.find_customer("telegram:4242") is None
    assert (await rights.export("telegram:77", words=WORDS))["customer"]["display_name"] == "Ada"
    erased = [e for e in await store.events() if e.kind is PrivacyEventKind.ERASED]
    assert len(erased) == 1
    assert erased[0].customer_id == grace.id
    assert erased[0].count == 9
    with pytest.raises(UnknownCustomer, match="no customer 'telegram:4242'"):
        await rights.erase("telegram:4242")


async def test_retention_removes_old_texts_and_keeps_counts_and_times(
    migrated: Database, repository: Repository, clock: StepClock, grace: Customer
) -> None:
    rights, store = _rights(migrated, lambda: START + timedelta(days=30, minutes=2))
    # Older than 30 days: the messages of try 1 (START + 1 min); try 2 is at START + 2 min.
    expired = await rights.expire(days=30)
    assert expired.messages == 2
    assert expired.handoffs == 2  # the cards' copies were made at START, before both
    exported = await rights.export(str(grace.id), words=WORDS)
    first, second = exported["conversations"]
    assert [m["text"] for m in first["messages"]] == [None, None, None]
    assert [m["author"] for m in first["messages"]] == ["customer", "bot", "customer"]
    assert all(m["created_at"] for m in first["messages"])
    assert CARD in second["messages"][0]["text"]
    handoffs = [await repository.get_handoff(c["handoffs"][0]["id"]) for c in (first, second)]
    assert all(h is not None and h.reason_detail["failed_turns"][0]["text"] == "" for h in handoffs)
    # The card's copy of the transcript goes too: it is drawn again from what is left.
    assert all(
        h is not None and h.card is not None and h.card["transcript"][0]["text"] == ""
        for h in handoffs
    )
    assert (await rights.expire(days=30)).messages == 0
    kinds = [e.kind for e in await store.events()]
    assert kinds.count(PrivacyEventKind.EXPIRED) == 1


async def test_retention_in_batches_of_one_takes_only_what_is_past_the_period_each_once(
    migrated: Database, repository: Repository, grace: Customer
) -> None:
    # A transaction per row: the same outcome as one run over everything.
    rights, store = _rights(migrated, lambda: START + timedelta(days=30, minutes=2))
    expired = await store.expire_texts(before=START + timedelta(minutes=1, seconds=30), batch=1)
    assert (expired.messages, expired.handoffs) == (2, 2)
    first, second = (await rights.export(str(grace.id), words=WORDS))["conversations"]
    assert [m["text"] for m in first["messages"]] == [None, None, None]
    assert CARD in second["messages"][0]["text"]  # newer than the period: kept
    again = await store.expire_texts(before=START + timedelta(minutes=1, seconds=30), batch=1)
    assert (again.messages, again.handoffs) == (0, 0)  # each card is stripped once


# --- reveals -----------------------------------------------------------------------------


async def test_only_the_owner_reveals_and_only_what_was_offered(
    migrated: Database, repository: Repository, clock: StepClock, grace: Customer, other: Customer
) -> None:
    desk = RecordingDesk()
    store = PrivacyStore(database=migrated, clock=clock)
    revealer = Revealer(
        store=repository,
        log=store,
        desk=desk,
        masker=Masker(build_scanner()),
        texts=load_agent_texts(REPO / "config" / "agents.yml"),
        transcript_lines=12,
        clock=clock,
    )
    thread = DeskThread("C0AGENTS", "17.1")
    handoff = await repository.find_handoff_by_thread(agent_channel="C0AGENTS", thread_ts="17.1")
    assert handoff is not None
    mine = await repository.recent_messages(handoff.conversation_id, limit=10)
    theirs = await repository.find_handoff_by_thread(agent_channel="C0AGENTS", thread_ts="17.3")
    assert theirs is not None
    [their_message, _] = await repository.recent_messages(theirs.conversation_id, limit=10)
    alice, bob = Agent("U1", "Alice"), Agent("U2", "Bob")

    async def told(agent: Agent, target: str, where: DeskThread = thread) -> str:
        await revealer.reveal(RevealRequest(thread=where, agent=agent, target=target))
        return desk.told[-1][2]

    assert "Only the agent who owns handoff" in await told(bob, f"message:{mine[0].id}")
    assert "not a Tandem handoff" in await told(alice, "card:1", DeskThread("C0AGENTS", "9.9"))
    nothing = "nothing masked to reveal"
    assert nothing in await told(alice, f"message:{their_message.id}")  # another conversation
    assert nothing in await told(alice, f"message:{mine[1].id}")  # the bot's "Sorry"
    assert nothing in await told(alice, "card:999")  # never offered here
    assert nothing in await told(alice, "message:abc")
    assert await store.events() == []

    shown = await told(alice, f"message:{mine[0].id}")
    assert f"my card {CARD}, try 1" in shown
    [event] = await store.events()
    assert (event.kind, event.actor_id, event.handoff_id) == (
        PrivacyEventKind.REVEALED,
        "U1",
        handoff.id,
    )
    assert event.message_ids == (mine[0].id,)
    assert event.customer_id == grace.id  # so that the customer's export lists it
    assert [to for _, to, _ in desk.told] == [bob, alice, alice, alice, alice, alice, alice]
