"""Detection and masking of personal data: a small fixed set where every labelled value is
found, the numbers support desks see all day left alone, and the rules for operators'
patterns."""

from __future__ import annotations

import pytest

from handoff.privacy import (
    Finding,
    Masker,
    Pattern,
    PrivacyConfigError,
    build_scanner,
)
from handoff.privacy.evaluation import SHIPPED_SET, evaluate, load_labelled

SCANNER = build_scanner()

# (text, [(value, kind), ...]): every value must be found, exactly, and nothing else.
FOUND = [
    ("my card 4111 1111 1111 1111 was charged twice", [("4111 1111 1111 1111", "card")]),
    ("card 5555-5555-5555-4444 declined", [("5555-5555-5555-4444", "card")]),
    ("amex 3782 822463 10005 please", [("3782 822463 10005", "card")]),
    ("pay with 6011111111111117", [("6011111111111117", "card")]),
    ("mail me: dana.whitfield@example.com", [("dana.whitfield@example.com", "email")]),
    ("(priya+billing@acme-corp.io)", [("priya+billing@acme-corp.io", "email")]),
    ("Anna.Berg@Example.COM is my login", [("Anna.Berg@Example.COM", "email")]),
    ("call (415) 555-2671 after 5", [("(415) 555-2671", "phone")]),
    ("call 415.555.2671", [("415.555.2671", "phone")]),
    ("my UK mobile +44 7911 123456", [("+44 7911 123456", "phone")]),
    ("Berlin: +49 30 901820.", [("+49 30 901820", "phone")]),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", [("GB82 WEST 1234 5698 7654 32", "iban")]),
    ("refund DE89370400440532013000 now", [("DE89370400440532013000", "iban")]),
    (
        "I'm sam@proton.me, card 4111111111111111, call +1 415 555 2671",
        [("sam@proton.me", "email"), ("4111111111111111", "card"), ("+1 415 555 2671", "phone")],
    ),
]

LEFT_ALONE = [
    "Order #48213 still hasn't arrived",
    "I was charged $1249.99 on 03/14/2024 at 10:30",
    "The app crashes on version 2.14.3",
    "error code 0x80070005 when paying",
    "the card ending in 4242 was declined",
    "I typed 4111 1111 1111 1112 and it failed",  # fails Luhn
    "tracking 1Z999AA10123456784",
    "My IP is 192.168.10.254",
    "Serial number SN-6162218224 on the device",
    "Invoice INV-2024-00123 says 12 seats",
    "what is your email address?",
    "meeting id 845 1234 5678",
    "",
]


def _values(text: str, findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], str(f.kind)) for f in findings]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_every_labelled_value_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert _values(text, SCANNER.find(text)) == expected


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_numbers_that_are_not_personal_data_are_left_alone(text: str) -> None:
    assert SCANNER.find(text) == ()


def test_the_shipped_set_is_well_formed_and_mostly_personal_data() -> None:
    labelled = load_labelled(SHIPPED_SET)
    assert len(labelled) >= 400
    kinds = {span.kind for example in labelled for span in example.spans}
    assert kinds == {"card", "email", "phone", "iban"}
    for example in labelled:
        for span in example.spans:
            assert (
                example.text[span.start : span.end].strip() == example.text[span.start : span.end]
            )
    evaluation = evaluate(SCANNER, labelled)
    assert evaluation.messages == len(labelled)


def test_masking_puts_typed_placeholders_and_restores_entities() -> None:
    masked = Masker(SCANNER).mask("email bob@example.com or card 4111 1111 1111 1111, thanks")
    assert masked.text == "email [email] or card [card], thanks"
    assert masked.kinds == ("email", "card")
    start = masked.text.index("[email]")
    assert masked.restore(start, start + len("[email]")) == "bob@example.com"
    assert masked.restore(0, len(masked.text)) == masked.original
    assert masked.restore(0, 5) == "email"


def test_a_text_without_personal_data_is_the_same_string() -> None:
    text = "how do I reset my password?"
    assert Masker(SCANNER).text(text) is text
    assert not Masker(SCANNER).mask(text).changed


def test_the_default_region_reads_national_numbers() -> None:
    text = "my mobile is 07911 123456"
    assert SCANNER.find(text) == ()
    british = build_scanner(region="GB")
    assert _values(text, british.find(text)) == [("07911 123456", "phone")]


def test_only_the_kinds_asked_for_are_found() -> None:
    scanner = build_scanner(kinds=["email"])
    assert _values("a@b.io 4111111111111111", scanner.find("a@b.io 4111111111111111")) == [
        ("a@b.io", "email")
    ]


def test_an_operator_pattern_with_a_checksum() -> None:
    scanner = build_scanner(
        patterns=[Pattern(kind="account_number", regex=r"ACC-(\d{8})", checksum="luhn")]
    )
    text = "accounts ACC-12345674 and ACC-12345678"
    assert _values(text, scanner.find(text)) == [("ACC-12345674", "account_number")]
    ssn = build_scanner(
        patterns=[Pattern(kind="ssn", regex=r"\d{3}-\d{2}-\d{4}", checksum="us.ssn")]
    )
    assert _values("ssn 536-90-4399", ssn.find("ssn 536-90-4399")) == [("536-90-4399", "ssn")]
    assert ssn.find("ssn 000-12-3456") == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kinds": ["email", "passport"]}, "kinds: unknown passport"),
        ({"region": "XX"}, "default_region: 'XX'"),
        ({"patterns": [Pattern(kind="Order", regex="x")]}, "expected a new lower-case name"),
        ({"patterns": [Pattern(kind="card", regex="x")]}, "expected a new lower-case name"),
        ({"patterns": [Pattern(kind="order", regex="(")]}, "patterns: order: bad regex"),
        ({"patterns": [Pattern(kind="order", regex="x", checksum="nope")]}, "no such validator"),
        ({"patterns": [Pattern(kind="order", regex="x", checksum="../os")]}, "expected a"),
    ],
)
def test_bad_settings_are_refused_with_one_line(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PrivacyConfigError, match=message.replace("(", r"\(")):
        build_scanner(**kwargs)  # type: ignore[arg-type]
