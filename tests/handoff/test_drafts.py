"""handoff.drafts: the bot's answers for the top intents, placeholders filled, none for a
human-only topic without approvers (one needing approval with them) or a guess too weak to
be worth a draft; saved replies by name."""

from __future__ import annotations

import random
from pathlib import Path

from handoff.drafts import drafts_for, saved_reply
from handoff.responses import Responses, load_responses
from nlu.parsing import Entity, IntentScore, ParseResult

CATALOGUE = """\
intents:
  order_status:
    - text: "Order {order_id} is on its way, {name}."
    - text: "Let me look at your order."
  billing_question:
    - text: "Invoices are under Settings > Billing."
  refund_request:
    - text: "Refunds take 5 days."
system:
"""


def responses(tmp_path: Path) -> Responses:
    shipped = (Path(__file__).resolve().parents[2] / "config" / "responses.yml").read_text()
    system = shipped[shipped.index("\nsystem:\n") + 1 :]
    path = tmp_path / "responses.yml"
    path.write_text(CATALOGUE.replace("system:\n", system), encoding="utf-8")
    return load_responses(path, rng=random.Random(1))


def parse(*ranking: tuple[str, float], entities: tuple[Entity, ...] = ()) -> ParseResult:
    scores = tuple(IntentScore(name, confidence) for name, confidence in ranking)
    return ParseResult(text="x", intent=scores[0], ranking=scores, entities=entities)


def test_the_top_intents_answers_with_placeholders_filled(tmp_path: Path) -> None:
    found = drafts_for(
        parse(
            ("order_status", 0.6),
            ("billing_question", 0.3),
            entities=(Entity("order_id", "ORD-1"),),
        ),
        responses(tmp_path),
        values={"name": "Grace"},
        sensitive=(),
        approvals=False,
    )
    assert [(d.intent, d.text) for d in found] == [
        ("order_status", "Order ORD-1 is on its way, Grace."),
        ("billing_question", "Invoices are under Settings > Billing."),
    ]


def test_no_draft_for_a_human_only_topic_a_weak_guess_or_an_intent_without_answer(
    tmp_path: Path,
) -> None:
    found = drafts_for(
        parse(("refund_request", 0.7), ("greet", 0.5), ("billing_question", 0.1)),
        responses(tmp_path),
        values={},
        sensitive=("refund_request",),
        approvals=False,
    )
    assert found == []


def test_a_human_only_topic_gets_a_draft_needing_approval_when_there_are_approvers(
    tmp_path: Path,
) -> None:
    found = drafts_for(
        parse(("refund_request", 0.7), ("billing_question", 0.5)),
        responses(tmp_path),
        values={},
        sensitive=("refund_request",),
        approvals=True,
    )
    assert [(d.intent, d.needs_approval) for d in found] == [
        ("refund_request", True),
        ("billing_question", False),
    ]


def test_a_saved_reply_by_name(tmp_path: Path) -> None:
    catalogue = responses(tmp_path)
    assert saved_reply(catalogue, " billing_question ", values={}) == (
        "Invoices are under Settings > Billing."
    )
    assert saved_reply(catalogue, "nothing_like_it", values={}) is None
