"""The process's own measurements: update-to-reply latency counts the first reply sent for
an update while it is handled, and only that."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Histogram

from bot.metrics import ReplyWatch, histogram_buckets
from handoff.model import ConversationKey, Customer, Inbound, MessageKind

KEY = ConversationKey("telegram", "42")


def inbound(message_id: str) -> Inbound:
    return Inbound(
        key=KEY,
        customer=Customer(user_id="42", display_name="Grace"),
        message_id=message_id,
        kind=MessageKind.TEXT,
        sent_at=datetime(2026, 12, 6, tzinfo=UTC),
        text="hello",
    )


def watch() -> tuple[ReplyWatch, Histogram]:
    histogram = Histogram("replies", "test", registry=CollectorRegistry())
    return ReplyWatch(histogram), histogram


def observed(histogram: Histogram) -> float:
    (family,) = histogram.collect()
    return float(next(s.value for s in family.samples if s.name.endswith("_count")))


def test_an_update_answered_while_handled_is_counted_once() -> None:
    replies, histogram = watch()
    update = inbound("1")
    replies.arrived(update)
    replies.start(update)
    replies.sent(KEY)
    replies.sent(KEY)  # a second message for the same update: still one wait
    replies.finish(update, handled=True)
    assert observed(histogram) == 1


def test_an_update_nobody_answered_yet_is_not_counted() -> None:
    replies, histogram = watch()
    update = inbound("2")
    replies.arrived(update)
    replies.start(update)
    replies.finish(update, handled=True)
    replies.sent(KEY)  # an agent's reply later, outside the handling: not the bot's reply
    assert observed(histogram) == 0


def test_a_failed_try_keeps_waiting_for_the_retry() -> None:
    replies, histogram = watch()
    update = inbound("3")
    replies.arrived(update)
    replies.start(update)
    replies.finish(update, handled=False)  # storage away: the intake tries again
    replies.start(update)
    replies.sent(KEY)
    replies.finish(update, handled=True)
    assert observed(histogram) == 1


def test_buckets_are_cumulative_with_inf_last() -> None:
    assert histogram_buckets([1.0, 5.0, 5.0, 50.0], [5.0, 10.0]) == [
        ("5.0", 3.0),
        ("10.0", 3.0),
        ("+Inf", 4.0),
    ]
