"""The decorators that mask what the NLU, the agents' desk and the log receive, with
hand-written fakes of the ports they wrap."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.logging import MaskPersonalData
from handoff.agent_texts import AgentTexts, load_agent_texts
from handoff.errors import DeliveryError
from handoff.model import (
    Agent,
    Author,
    CardState,
    CardStatus,
    ConversationKey,
    Customer,
    CustomerRelay,
    DeskThread,
    HandoffTicket,
    MessageKind,
    NluSnapshot,
    TranscriptLine,
)
from handoff.privacy import Masker, build_scanner
from handoff.privacy.desk import MaskingDesk, RevealOffer
from handoff.privacy.nlu import EXTRACTOR, MaskingNlu
from nlu.parsing import Entity, ParseResult
from tests.support.fakes import RecordingDesk, ScriptedNlu

REPO = Path(__file__).resolve().parents[2]
MASKER = Masker(build_scanner())
CARD, EMAIL = "4111 1111 1111 1111", "bob@example.com"
THREAD = DeskThread("C0AGENTS", "1700000000.000001")
AT = datetime(2026, 12, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts() -> AgentTexts:
    return load_agent_texts(REPO / "config" / "agents.yml")


class RecordingOffers:
    def __init__(self, *, fail: bool = False) -> None:
        self.offers: list[tuple[DeskThread, RevealOffer]] = []
        self.fail = fail

    async def offer_reveal(self, thread: DeskThread, offer: RevealOffer) -> None:
        if self.fail:
            raise DeliveryError("Slack is away")
        self.offers.append((thread, offer))


# --- the NLU ---------------------------------------------------------------------------


async def test_the_nlu_gets_placeholders_and_the_engine_gets_what_was_written() -> None:
    masked = "change my email to [email] and card [card]"
    nlu = ScriptedNlu(
        table={masked: [("change_email", 0.9)]}, entities={masked: [("email", "[email]")]}
    )
    result = await MaskingNlu(inner=nlu, masker=MASKER).parse(
        f"change my email to {EMAIL} and card {CARD}"
    )
    assert nlu.seen == [masked]
    assert result.text == f"change my email to {EMAIL} and card {CARD}"
    assert result.intent is not None
    assert result.intent.name == "change_email"
    # The NLU's own entity (no position) is kept; each masked value is one of its kind.
    assert [(e.entity, e.value, e.extractor) for e in result.entities] == [
        ("email", "[email]", None),
        ("email", EMAIL, EXTRACTOR),
        ("card", CARD, EXTRACTOR),
    ]


async def test_an_entity_over_a_placeholder_gets_the_value_back() -> None:
    class Positioned(ScriptedNlu):
        """Finds "[email]" as an email entity, with its position (as Rasa's regex would)."""

        async def parse(self, text: str) -> ParseResult:
            result = await super().parse(text)
            start = text.index("[email]")
            entity = Entity(entity="email", value="[email]", start=start, end=start + 7)
            return replace(result, entities=(entity,))

    text = f"my email is {EMAIL} ok"
    result = await MaskingNlu(inner=Positioned(), masker=MASKER).parse(text)
    [entity] = result.entities
    assert entity.value == EMAIL
    assert entity.start is not None
    assert entity.end is not None
    assert text[entity.start : entity.end] == EMAIL


async def test_a_text_without_personal_data_goes_through_as_it_is() -> None:
    nlu = ScriptedNlu()
    await MaskingNlu(inner=nlu, masker=MASKER).parse("reset my password")
    assert nlu.seen == ["reset my password"]


# --- the agents' desk --------------------------------------------------------------------


def _ticket() -> HandoffTicket:
    return HandoffTicket(
        handoff_id=42,
        conversation_id=7,
        key=ConversationKey("telegram", "1"),
        customer=Customer(user_id="1", display_name="Grace"),
        reason="person_requested",
        explanation="asked",
        failed_turns=(NluSnapshot(text=f"card {CARD}", intents=()),),
        frustration=0.0,
        transcript=(
            TranscriptLine(author=Author.CUSTOMER, text=f"mail {EMAIL}", at=AT),
            TranscriptLine(author=Author.BOT, text="Sorry", at=AT),
        ),
        requested_at=AT,
    )


async def test_the_card_is_masked_and_a_reveal_is_offered_once(texts: AgentTexts) -> None:
    inner, offers = RecordingDesk(), RecordingOffers()
    desk = MaskingDesk(inner=inner, masker=MASKER, texts=texts, offers=offers)
    thread = await desk.open_handoff(_ticket())
    assert thread is not None
    [shown] = inner.tickets
    assert shown.failed_turns[0].text == "card [card]"
    assert [line.text for line in shown.transcript] == ["mail [email]", "Sorry"]
    assert offers.offers == []  # the offer follows the card once its thread is recorded
    await desk.follow_card(thread, _ticket())
    assert inner.followed == [(thread, shown)]  # masked there too
    [(where, offer)] = offers.offers
    assert where == thread
    assert offer.target == "card:42"
    assert offer.button == "Reveal"
    assert "(email, card)" in offer.text or "(card, email)" in offer.text
    await desk.show_card(thread, CardState(ticket=_ticket(), status=CardStatus.CLAIMED))
    assert CARD not in str(inner.cards)
    assert EMAIL not in str(inner.cards)


async def test_a_relayed_message_is_masked_with_its_reveal(texts: AgentTexts) -> None:
    inner, offers = RecordingDesk(), RecordingOffers()
    desk = MaskingDesk(inner=inner, masker=MASKER, texts=texts, offers=offers)
    customer = Customer(user_id="1", display_name="Grace")
    relay = CustomerRelay(kind=MessageKind.TEXT, text=f"it's {CARD}", outbox_id=9)
    await desk.relay_to_agents(THREAD, relay, customer=customer)
    await desk.relay_to_agents(THREAD, relay, customer=customer)  # a redelivery
    assert [r.text for _, r, _ in inner.relays] == ["it's [card]", "it's [card]"]
    assert [offer.target for _, offer in offers.offers] == ["message:9"]
    plain = CustomerRelay(kind=MessageKind.TEXT, text="thanks", outbox_id=10)
    await desk.relay_to_agents(THREAD, plain, customer=customer)
    photo = CustomerRelay(kind=MessageKind.PHOTO, text=None, outbox_id=11)
    await desk.relay_to_agents(THREAD, photo, customer=customer)
    assert len(offers.offers) == 1
    assert inner.relays[-1][1] is photo


async def test_notes_and_private_lines_pass_and_a_failed_offer_is_not_fatal(
    texts: AgentTexts, caplog: pytest.LogCaptureFixture
) -> None:
    inner = RecordingDesk()
    desk = MaskingDesk(inner=inner, masker=MASKER, texts=texts, offers=RecordingOffers(fail=True))
    await desk.post_note(THREAD, "Alice claimed this conversation.")
    await desk.tell_agent(THREAD, Agent("U1", "Alice"), f"as written: {CARD}")
    assert inner.notes == [(THREAD, "Alice claimed this conversation.")]
    assert inner.told[0][2] == f"as written: {CARD}"
    relay = CustomerRelay(kind=MessageKind.TEXT, text=f"card {CARD}", outbox_id=3)
    await desk.relay_to_agents(THREAD, relay, customer=Customer(user_id="1", display_name="G"))
    assert "could not offer a reveal" in caplog.text


# --- the log -----------------------------------------------------------------------------


def test_the_log_filter_masks_messages_arguments_and_stacks() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "customer %s wrote %s", ("1", f"card {CARD}"), None
    )
    MaskPersonalData(MASKER.text).filter(record)
    assert record.getMessage() == "customer 1 wrote card [card]"
    try:
        raise ValueError(f"bad email {EMAIL}")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    MaskPersonalData(MASKER.text).filter(failed)
    assert failed.exc_text is not None
    assert EMAIL not in failed.exc_text
    assert "[email]" in failed.exc_text
