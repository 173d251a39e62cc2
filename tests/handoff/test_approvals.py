"""handoff.approvals: the pure rule of who sends a draft on a human-only topic, and how a
text is known to be one (the bot's answer to such a topic, placeholders filled)."""

from __future__ import annotations

import pytest

from handoff.approvals import Outcome, Press, SensitiveTexts, decide, template_pattern

RULE = [
    # press, sensitive, approver -> outcome
    (Press.SEND, False, False, Outcome.SEND),
    (Press.SEND, False, True, Outcome.SEND),
    (Press.SEND, True, False, Outcome.REFUSE),
    (Press.SEND, True, True, Outcome.SEND_APPROVED),
    (Press.REQUEST, False, False, Outcome.NOT_NEEDED),
    (Press.REQUEST, False, True, Outcome.APPROVER_SENDS),
    (Press.REQUEST, True, False, Outcome.ASK_APPROVERS),
    (Press.REQUEST, True, True, Outcome.APPROVER_SENDS),
    (Press.APPROVE, False, False, Outcome.REFUSE),
    (Press.APPROVE, False, True, Outcome.SEND_APPROVED),
    (Press.APPROVE, True, False, Outcome.REFUSE),
    (Press.APPROVE, True, True, Outcome.SEND_APPROVED),
    (Press.DECLINE, False, False, Outcome.REFUSE),
    (Press.DECLINE, False, True, Outcome.DECLINE),
    (Press.DECLINE, True, False, Outcome.REFUSE),
    (Press.DECLINE, True, True, Outcome.DECLINE),
]


def test_the_rule_covers_every_case() -> None:
    assert {(p, s, a) for p, s, a, _ in RULE} == {
        (p, s, a) for p in Press for s in (False, True) for a in (False, True)
    }


@pytest.mark.parametrize(("press", "sensitive", "approver", "outcome"), RULE)
def test_who_sends_what(press: Press, sensitive: bool, approver: bool, outcome: Outcome) -> None:
    assert decide(press, sensitive=sensitive, approver=approver) is outcome


def test_a_non_approver_never_sends_a_sensitive_reply_whatever_they_press() -> None:
    sends = {Outcome.SEND, Outcome.SEND_APPROVED}
    assert all(decide(p, sensitive=True, approver=False) not in sends for p in Press)


def test_a_template_matches_its_filled_texts_only() -> None:
    pattern = template_pattern("Refund {order_id} (of {amount}) takes 5 days, {name}.")
    assert pattern.fullmatch("Refund ORD-1 (of $20) takes 5 days, Ada.")
    assert not pattern.fullmatch("Refund ORD-1 (of $20) takes 6 days, Ada.")
    assert not pattern.fullmatch("A refund takes 5 days.")


def test_sensitive_texts_are_the_human_only_topics_answers() -> None:
    sensitive = SensitiveTexts(["Refunds take 5 days, {name}.", "We can't give legal advice."])
    assert "Refunds take 5 days, Grace." in sensitive
    assert "  We can't give legal advice.\n" in sensitive  # as sent: surrounding space trimmed
    assert "Refunds take 5 days. Or not." not in sensitive
    assert "Invoices are under Settings > Billing." not in sensitive
    assert not SensitiveTexts([])
