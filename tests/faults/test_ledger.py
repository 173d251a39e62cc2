"""The ledger's arithmetic, on made-up observations (no service, no Rasa)."""

from __future__ import annotations

from tests.faults.ledger import Arrival, Ledger, Observed, Route

CHAT, OTHER = 610_001, 610_002


def _ids(ledger: Ledger, route: Route, count: int, chat: int = CHAT) -> list[str]:
    return [ledger.record(chat, route, "words").rsplit(" ", 1)[1] for _ in range(count)]


def _arrivals(*texts: str, at: float = 0.0) -> list[Arrival]:
    return [Arrival(text, at) for text in texts]


def test_ids_are_unique_and_name_the_direction() -> None:
    ledger = Ledger()
    ids = _ids(ledger, Route.TO_AGENTS, 2) + _ids(ledger, Route.TO_CUSTOMER, 1)
    assert ids == ["m-1", "m-2", "a-3"]


def test_delivered_lost_duplicated_and_out_of_order() -> None:
    ledger = Ledger()
    m1, m2, m3, m4 = _ids(ledger, Route.TO_AGENTS, 4)
    observed = Observed(
        threads={CHAT: _arrivals(f"x {m2}", f"x {m1}", f"x {m2}", f"x {m3}")}, chats={}
    )
    counts = ledger.count(observed)
    assert (counts.sent, counts.delivered, counts.lost, counts.duplicated) == (4, 3, 1, 1)
    assert (counts.lost_ids, counts.duplicated_ids, counts.out_of_order_ids) == (
        (m4,),
        (m2,),
        (m1,),
    )


def test_an_id_is_not_mistaken_for_a_longer_one() -> None:
    ledger = Ledger()
    ids = _ids(ledger, Route.TO_CUSTOMER, 12)
    observed = Observed(threads={}, chats={CHAT: _arrivals(*(f"Answer {i}" for i in ids[1:]))})
    assert ledger.count(observed).lost_ids == (ids[0],)  # "a-1" is not in "a-10" or "a-11"


def test_order_is_per_conversation() -> None:
    ledger = Ledger()
    [mine] = _ids(ledger, Route.TO_CUSTOMER, 1)
    [theirs] = _ids(ledger, Route.TO_CUSTOMER, 1, chat=OTHER)
    observed = Observed(threads={}, chats={CHAT: _arrivals(mine), OTHER: _arrivals(theirs)})
    counts = ledger.count(observed)
    assert (counts.delivered, counts.out_of_order) == (2, 0)


def test_a_message_in_another_conversation_is_not_delivered() -> None:
    ledger = Ledger()
    [reply] = _ids(ledger, Route.TO_CUSTOMER, 1)
    counts = ledger.count(Observed(threads={}, chats={OTHER: _arrivals(reply)}))
    assert counts.lost_ids == (reply,)


def test_bot_mode_is_answered_by_a_later_reply_but_not_by_a_notice() -> None:
    ledger = Ledger(is_notice=lambda text: "kept" in text)
    _ids(ledger, Route.TO_BOT, 1)
    sent = ledger.sent[0].mono
    notice_only = Observed(threads={}, chats={CHAT: _arrivals("Your message is kept", at=sent + 1)})
    assert ledger.count(notice_only).unanswered == 1
    too_early = Observed(threads={}, chats={CHAT: _arrivals("Hello", at=sent - 1)})
    assert ledger.count(too_early).unanswered == 1
    answered = Observed(threads={}, chats={CHAT: _arrivals("Hello", at=sent + 1)})
    assert ledger.count(answered).customers_unanswered == 0


def test_who_waited_too_long_and_who_was_told() -> None:
    ledger = Ledger(is_notice=lambda text: "kept" in text)
    [late] = _ids(ledger, Route.TO_AGENTS, 1)
    _ids(ledger, Route.TO_BOT, 1, chat=OTHER)  # never answered: waits for ever
    [first, second] = ledger.sent
    observed = Observed(
        threads={CHAT: [Arrival(f"x {late}", first.wall + 5)]},
        chats={CHAT: _arrivals("Your message is kept", at=first.mono + 2)},
    )
    counts = ledger.count(observed, notice_after=3)
    assert (counts.waited, counts.notified) == (2, 1)
    assert ledger.count(observed, notice_after=10).waited == 1  # only the one never answered
    assert second.chat == OTHER
