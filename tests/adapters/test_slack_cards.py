"""What Tandem posts in Slack: the handoff card in each state, customers' messages and notes,
all within Block Kit's limits and with customers' words only ever in plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack.blocks import SlackMessage
from bot.adapters.slack.cards import (
    CLAIM_ACTION,
    CLOSE_ACTION,
    REASONS,
    RETRACT_ACTION,
    RETURN_ACTION,
    TAUGHT_BLOCK,
    render_card,
)
from bot.adapters.slack.posts import SECTIONS_PER_POST, note_post, relay_posts
from bot.adapters.slack.sizing import utf16_length
from handoff.model import (
    Agent,
    Attachment,
    Author,
    CardState,
    CardStatus,
    ConversationKey,
    Customer,
    CustomerRelay,
    HandoffTicket,
    MessageKind,
    NluSnapshot,
    TranscriptLine,
)

HOSTILE = "<!channel> <@U0BOSS> @here <http://evil.example|click> *urgent* _now_ ~x~ `y`\n> q"
START = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
ALICE = Agent(user_id="U0AGENT1", display_name="Alice")
BOB = Agent(user_id="U0AGENT2", display_name="Bob")

JsonDict = dict[str, Any]


def make_ticket(
    *,
    handoff_id: int = 42,
    name: str = "Maria González",
    username: str | None = "maria_g",
    reason: str = "frustrated",
    explanation: str = "frustration 0.82 reaches the threshold 0.70 (caps, swearing)",
    failed_turns: tuple[NluSnapshot, ...] | None = None,
    transcript: tuple[TranscriptLine, ...] | None = None,
    frustration: float = 0.82,
) -> HandoffTicket:
    if failed_turns is None:
        failed_turns = (
            NluSnapshot(
                text="where is my parcel??", intents=(("greet", 0.12), ("order_status", 0.41))
            ),
            NluSnapshot(text="I SAID WHERE", intents=(("order_status", 0.38),)),
        )
    if transcript is None:
        transcript = (
            TranscriptLine(author=Author.CUSTOMER, text="hi", at=START),
            TranscriptLine(
                author=Author.BOT, text="Hello! How can I help?", at=START + timedelta(seconds=5)
            ),
            TranscriptLine(
                author=Author.CUSTOMER, text="where is my parcel??", at=START + timedelta(minutes=1)
            ),
            TranscriptLine(
                author=Author.SYSTEM,
                text="Handing over to a person",
                at=START + timedelta(minutes=2),
            ),
        )
    return HandoffTicket(
        handoff_id=handoff_id,
        conversation_id=7,
        key=ConversationKey(channel="telegram", chat_id="4242"),
        customer=Customer(user_id="4242", display_name=name, username=username),
        reason=reason,
        explanation=explanation,
        failed_turns=failed_turns,
        frustration=frustration,
        transcript=transcript,
        requested_at=START + timedelta(minutes=2),
    )


def text_objects(node: Any) -> Iterator[JsonDict]:
    """Every text object (plain_text or mrkdwn) anywhere in ``node``."""
    if isinstance(node, dict):
        if node.get("type") in {"plain_text", "mrkdwn"} and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def all_text(message: SlackMessage) -> str:
    return "\n".join(obj["text"] for obj in text_objects(message.blocks))


def mrkdwn_surfaces(message: SlackMessage) -> list[str]:
    """Where Slack parses markup: the notification text and every mrkdwn object."""
    objects = [obj["text"] for obj in text_objects(message.blocks) if obj["type"] == "mrkdwn"]
    return [message.text, *objects]


def assert_within_limits(message: SlackMessage) -> None:
    """Block Kit's documented limits, which Slack enforces by refusing the message."""
    assert len(message.blocks) <= 50
    assert 0 < utf16_length(message.text) <= 40_000
    for block in message.blocks:
        if block["type"] == "header":
            assert utf16_length(block["text"]["text"]) <= 150
        if block["type"] == "section":
            if "text" in block:
                assert utf16_length(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            for field in block.get("fields", []):
                assert utf16_length(field["text"]) <= 2000
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
    for obj in text_objects(message.blocks):
        assert obj["text"].strip(), "Slack refuses empty text objects"


def assert_no_markup_from_customers(message: SlackMessage) -> None:
    for surface in mrkdwn_surfaces(message):
        assert "<!channel>" not in surface
        assert "<@U0BOSS>" not in surface
        assert "<http://evil" not in surface
        assert not re.search(r"@(here|channel)\b", surface)


def buttons(message: SlackMessage) -> list[JsonDict]:
    return [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def status_text(message: SlackMessage) -> str:
    sections = [b for b in message.blocks if b["type"] == "section" and "text" in b]
    return str(sections[-1]["text"]["text"])


# --- the card -----------------------------------------------------------------------------


def test_a_new_card_shows_who_why_what_the_nlu_saw_and_the_conversation() -> None:
    card = render_card(CardState(ticket=make_ticket(), status=CardStatus.WAITING))

    text = all_text(card)
    assert card.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Handoff #42: Maria González", "emoji": False},
    }
    assert "Maria González" in text
    assert "@maria_g" in text
    assert "The customer seems frustrated." in text
    assert "frustration 0.82 reaches the threshold 0.70 (caps, swearing)" in text
    assert "“where is my parcel??” → order_status 41%, greet 12%" in text
    assert "“I SAID WHERE” → order_status 38%" in text
    assert "0.82 of 1" in text
    for words in ("hi", "Hello! How can I help?", "Handing over to a person"):
        assert words in text
    for label in ("*Customer*", "*Bot*", "*Tandem*"):
        assert label in text
    assert "Waiting for an agent" in status_text(card)
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons(card)] == [
        (CLAIM_ACTION, "42", "Claim"),
        (RETURN_ACTION, "42", "Return to bot"),
        (CLOSE_ACTION, "42", "Close"),
        (RETRACT_ACTION, "42", "Retract bot's answer"),
    ]
    assert buttons(card)[2]["confirm"]["confirm"]["text"] == "Close"
    assert card.text.startswith("Handoff #42: Maria González (@maria\u200b_\u200bg).")
    assert_within_limits(card)


def test_times_are_slack_dates_that_each_agent_sees_in_their_own_zone() -> None:
    card = render_card(CardState(ticket=make_ticket(), status=CardStatus.WAITING))

    assert f"<!date^{int(START.timestamp())}^{{time}}|09:30 UTC>" in all_text(card)


def test_a_customer_without_username_and_without_failed_turns() -> None:
    ticket = make_ticket(username=None, failed_turns=(), reason="person_requested")

    card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))

    text = all_text(card)
    assert "no username" in text
    assert "The customer asked to talk to a person." in text
    assert "did not understand" not in text


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_code_is_said_in_words(code: str) -> None:
    card = render_card(
        CardState(ticket=make_ticket(reason=code, explanation=""), status=CardStatus.WAITING)
    )

    assert REASONS[code] in all_text(card)
    assert REASONS[code] in card.text.replace("\u200b", "")


def test_an_unknown_reason_code_is_still_shown() -> None:
    card = render_card(
        CardState(ticket=make_ticket(reason="moon_phase"), status=CardStatus.WAITING)
    )

    # In mrkdwn, so the underscore is wrapped in zero-width spaces; readers see it as is.
    assert "Reason: moon_phase." in all_text(card).replace("\u200b", "")


def test_customer_text_on_the_card_is_plain_text_only() -> None:
    hostile_turn = NluSnapshot(text=HOSTILE, intents=(("x", 0.5),))
    ticket = make_ticket(
        name=HOSTILE,
        username="evil_<!here>",
        failed_turns=(hostile_turn,),
        transcript=(TranscriptLine(author=Author.CUSTOMER, text=HOSTILE, at=START),),
    )

    card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))

    plain = [obj["text"] for obj in text_objects(card.blocks) if obj["type"] == "plain_text"]
    assert any(HOSTILE in text for text in plain)  # shown, verbatim, where nothing is parsed
    assert_no_markup_from_customers(card)
    assert "&lt;!channel&gt;" in card.text
    assert_within_limits(card)


def test_a_long_conversation_shows_its_end_within_the_block_limit() -> None:
    transcript = tuple(
        TranscriptLine(
            author=Author.CUSTOMER if n % 2 else Author.BOT,
            text=f"message {n} " + "words " * 400,
            at=START + timedelta(minutes=n),
        )
        for n in range(200)
    )
    failed = tuple(
        NluSnapshot(text="x" * 5000, intents=tuple((f"intent_{i}", i / 10) for i in range(10)))
        for _ in range(30)
    )
    ticket = make_ticket(name="N" * 500, transcript=transcript, failed_turns=failed)

    card = render_card(CardState(ticket=ticket, status=CardStatus.WAITING))

    text = all_text(card)
    assert_within_limits(card)
    assert "message 199" in text
    assert "message 179" not in text
    assert "(the last 20 of 200 messages)" in text
    assert "(the last 5 of 30 turns)" in text
    assert "intent_9 90%, intent_8 80%, intent_7 70%" in text
    assert "intent_6" not in text
    assert len(buttons(card)) == 4


def test_claimed_card_names_the_owner_and_keeps_the_buttons_for_a_transfer() -> None:
    state = CardState(
        ticket=make_ticket(),
        status=CardStatus.CLAIMED,
        owner=ALICE,
        changed_by=ALICE,
        changed_at=START + timedelta(minutes=3),
    )

    card = render_card(state)

    assert "Claimed by <@U0AGENT1>" in status_text(card)
    assert "<!date^" in status_text(card)
    assert len(buttons(card)) == 4
    assert "Claimed by Alice" in card.text


def test_returned_card_has_no_buttons() -> None:
    state = CardState(ticket=make_ticket(), status=CardStatus.RETURNED, owner=ALICE, changed_by=BOB)

    card = render_card(state)

    assert "Returned to the bot by <@U0AGENT2>" in status_text(card)
    assert buttons(card) == []


@pytest.mark.parametrize(
    ("rating", "shown"),
    [
        (4, "Rating: ★★★★☆ (4/5)"),
        (5, "Rating: ★★★★★ (5/5)"),
        (1, "Rating: ★☆☆☆☆ (1/5)"),
        (None, "Not rated yet"),
    ],
)
def test_closed_card_shows_who_closed_it_and_the_rating(rating: int | None, shown: str) -> None:
    state = CardState(
        ticket=make_ticket(), status=CardStatus.CLOSED, owner=ALICE, changed_by=ALICE, rating=rating
    )

    card = render_card(state)

    assert status_text(card).startswith("✅ Closed by <@U0AGENT1>")
    assert shown in status_text(card)
    assert buttons(card) == []
    assert_within_limits(card)


def test_an_agent_without_a_slack_id_is_named_not_mentioned() -> None:
    outsider = Agent(user_id="ops-console", display_name="<!channel> *Ops*")

    card = render_card(CardState(ticket=make_ticket(), status=CardStatus.CLAIMED, owner=outsider))

    assert "<!channel>" not in status_text(card)
    assert "&lt;!channel&gt;" in status_text(card)


# --- customers' messages in the thread ----------------------------------------------------

MARIA = Customer(user_id="4242", display_name="Maria González", username="maria_g")


def relay(message: CustomerRelay) -> list[SlackMessage]:
    posts = relay_posts(message, customer=MARIA)
    for post in posts:
        assert_within_limits(post)
        assert_no_markup_from_customers(post)
    return posts


def test_a_text_message_is_shown_verbatim_in_plain_text() -> None:
    (post,) = relay(CustomerRelay(kind=MessageKind.TEXT, text=HOSTILE))

    assert post.blocks == [
        {
            "type": "context",
            "elements": [
                {"type": "plain_text", "text": "👤 Maria González (@maria_g)", "emoji": False}
            ],
        },
        {"type": "section", "text": {"type": "plain_text", "text": HOSTILE, "emoji": False}},
    ]
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; @\u200dhere" in post.text


def test_an_edited_message_says_so() -> None:
    (post,) = relay(CustomerRelay(kind=MessageKind.TEXT, text="fixed typo", edited=True))

    assert all_text(post).startswith("(edited) 👤 Maria González")
    assert post.text.startswith("(edited) ")


@pytest.mark.parametrize(
    ("kind", "attachment", "caption", "note"),
    [
        (
            MessageKind.PHOTO,
            Attachment(file_id="f1", file_name="receipt.jpg", size=1_258_291),
            "my receipt",
            "📎 Photo from the customer (receipt.jpg, 1.2 MB) — not shown here",
        ),
        (
            MessageKind.DOCUMENT,
            Attachment(file_id="f2", file_name="invoice.pdf", size=2048),
            None,
            "📎 Document from the customer (invoice.pdf, 2.0 KB) — not shown here",
        ),
        (
            MessageKind.PHOTO,
            None,
            None,
            "📎 Photo from the customer — not shown here",
        ),
        (
            MessageKind.VOICE,
            Attachment(file_id="f3", size=900),
            None,
            "📎 Voice message from the customer (900 bytes) — not shown here",
        ),
        (MessageKind.STICKER, None, "😀", "[sticker]"),
        (MessageKind.LOCATION, None, None, "[location]"),
        (MessageKind.CONTACT, None, None, "[contact]"),
        (MessageKind.OTHER, None, None, "[a kind of message Tandem cannot show]"),
    ],
)
def test_what_the_adapter_cannot_show_is_described(
    kind: MessageKind, attachment: Attachment | None, caption: str | None, note: str
) -> None:
    (post,) = relay(CustomerRelay(kind=kind, text=caption, attachment=attachment))

    assert note in all_text(post)
    assert note in post.text
    if caption:
        assert post.blocks[-1]["text"]["text"] == caption


def test_a_file_name_cannot_disguise_itself_with_bidi_overrides() -> None:
    attachment = Attachment(file_id="f", file_name="invoice\u202efdp.exe")

    (post,) = relay(CustomerRelay(kind=MessageKind.DOCUMENT, text=None, attachment=attachment))

    assert "invoicefdp.exe" in all_text(post)


def test_an_empty_message_is_still_shown() -> None:
    (post,) = relay(CustomerRelay(kind=MessageKind.TEXT, text="   "))

    assert "[an empty message]" in all_text(post)


def test_very_long_text_is_split_over_sections_and_posts_without_loss() -> None:
    words = [f"w{n}" for n in range(40_000)]  # about 230,000 characters
    text = " ".join(words)

    posts = relay(CustomerRelay(kind=MessageKind.TEXT, text=text))

    assert len(posts) > 1
    sections = [b["text"]["text"] for post in posts for b in post.blocks if b["type"] == "section"]
    assert " ".join(sections).split() == words
    assert all(
        sum(b["type"] == "section" for b in post.blocks) <= SECTIONS_PER_POST for post in posts
    )
    assert f"(continued, part 2 of {len(posts)})" in all_text(posts[1])


def test_a_note_is_small_grey_plain_text() -> None:
    note = note_post("Alice claimed this conversation <!here>")

    assert note.blocks == [
        {
            "type": "context",
            "elements": [
                {
                    "type": "plain_text",
                    "text": "Alice claimed this conversation <!here>",
                    "emoji": False,
                }
            ],
        }
    ]
    assert note.text == "Alice claimed this conversation &lt;!here&gt;"


def test_the_card_lists_what_was_taught_in_its_thread_above_the_status() -> None:
    taught = (
        "Taught: “where is my [order]” → order_status by Alice",
        "Taught: “hm” → greet by Bob",
    )
    plain = render_card(CardState(ticket=make_ticket(), status=CardStatus.WAITING))
    card = render_card(CardState(ticket=make_ticket(), status=CardStatus.WAITING, taught=taught))
    assert TAUGHT_BLOCK not in str(plain.blocks)
    [block] = [b for b in card.blocks if b.get("block_id") == TAUGHT_BLOCK]
    assert block["elements"][0] == {"type": "plain_text", "text": "\n".join(taught), "emoji": False}
    assert card.blocks.index(block) == len(card.blocks) - 3  # then the status, the buttons
