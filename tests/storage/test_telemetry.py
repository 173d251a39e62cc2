"""What /metrics reads from the record, over the known history of test_metrics (all of it,
both windows' insides and outsides), on SQLite and PostgreSQL; and the text /metrics
serves, read back with prometheus-client's own parser."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.metrics import Metrics
from handoff.model import Author
from handoff.storage import Database, Delivery, JsonObject, NewMessage, Platform
from handoff.storage.telemetry import Count, read_telemetry
from tests.storage import test_metrics
from tests.storage.test_metrics import SINCE, History

DECISION_HANDOFF: JsonObject = {"action": "handoff", "handoff_reason": "frustrated", "reasons": []}
DECISION_REPHRASE: JsonObject = {
    "action": "rephrase",
    "handoff_reason": None,
    "reasons": [{"code": "low_confidence"}, {"code": "ambiguous"}],
}
DECISION_ANSWER: JsonObject = {"action": "answer", "handoff_reason": None, "reasons": []}


async def write_turns(history: History) -> None:
    """Three decided turns, one reply Telegram refused for good and one answer retracted."""
    conversation = await history.conversation(SINCE + timedelta(days=9))
    at = SINCE + timedelta(days=9, minutes=1)
    for n, decision in enumerate((DECISION_ANSWER, DECISION_REPHRASE, DECISION_HANDOFF)):
        await history.repository.add_message(
            NewMessage(
                conversation_id=conversation,
                author=Author.CUSTOMER,
                platform=Platform.TELEGRAM,
                created_at=at + timedelta(seconds=n),
                text="hello",
                decision=decision,
            )
        )
    retracted: JsonObject = {**DECISION_ANSWER, "retracted": {"by": "U1"}}
    others: tuple[tuple[Author, str, JsonObject | None, Delivery | None], ...] = (
        (Author.AGENT, "are you there?", None, Delivery.FAILED),
        (Author.BOT, "an answer an agent retracted", retracted, Delivery.RETRACTED),
        # Not turns: the bot's reply keeps its turn's decision; an agent's message keeps its
        # delivery's details in the same column.
        (Author.BOT, "a reply", DECISION_ANSWER, None),
        (Author.AGENT, "a reply", {"telegram_id": 7}, None),
    )
    for n, (author, text, record, delivery) in enumerate(others, start=5):
        await history.repository.add_message(
            NewMessage(
                conversation_id=conversation,
                author=author,
                platform=Platform.TELEGRAM,
                created_at=at + timedelta(seconds=n),
                text=text,
                decision=record,
                delivery=delivery,
            )
        )


history = test_metrics.history  # its known history, inside and outside the window


def as_dict(counts: tuple[Count, ...]) -> dict[tuple[str, ...], int]:
    return {count.labels: count.value for count in counts}


async def test_the_record_read_whole(migrated: Database, history: History) -> None:
    await write_turns(history)

    figures = await read_telemetry(migrated)

    # Eight conversations inside the window, two outside, one with the turns: three bot-only.
    assert as_dict(figures.conversations) == {("true",): 8, ("false",): 3}
    assert as_dict(figures.handoffs) == {
        ("person_requested", "none"): 4,
        ("frustrated", "none"): 2,
        ("failed_turns", "none"): 1,
        ("human_only_topic", "none"): 1,
        ("nlu_unavailable", "none"): 1,
    }
    assert as_dict(figures.ratings) == {("1",): 1, ("2",): 1, ("4",): 1, ("5",): 1}
    assert as_dict(figures.decisions) == {
        ("answer", "none"): 1,
        ("rephrase", "low_confidence"): 1,
        ("handoff", "frustrated"): 1,
    }
    assert as_dict(figures.failed_deliveries) == {("telegram",): 1}
    assert as_dict(figures.retracted_answers) == {("telegram",): 1}
    messages = as_dict(figures.messages)
    assert messages[("agent", "slack")] == 8
    assert messages[("agent", "telegram")] == 2  # the failed reply and the delivered one
    # The late conversation's handoff and c7 wait; c8 is claimed.
    assert (figures.waiting, figures.claimed) == (2, 1)
    assert figures.time_to_claim == (20.0,)
    assert sorted(figures.first_response) == [10.0, 30.0, 45.0, 120.0, 252.0, 600.0]
    assert sorted(figures.resolution) == [20.0, 1200.0, 2400.0, 3900.0]


async def test_metrics_parse_with_prometheus_own_parser(
    migrated: Database, history: History
) -> None:
    metrics = Metrics(database=migrated)
    metrics.nlu_parse.observe(0.02)

    text = (await metrics.render()).decode()

    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert {
        "tandem_record_up",
        "tandem_conversations",
        "tandem_messages",
        "tandem_decisions",
        "tandem_handoffs",
        "tandem_failed_deliveries",
        "tandem_retracted_answers",
        "tandem_ratings",
        "tandem_handoffs_waiting",
        "tandem_handoffs_claimed",
        "tandem_time_to_claim_seconds",
        "tandem_first_response_seconds",
        "tandem_resolution_seconds",
        "tandem_nlu_parse_seconds",
        "tandem_update_to_reply_seconds",
    } <= set(families)
    assert families["tandem_record_up"].samples[0].value == 1
    assert families["tandem_handoffs_waiting"].samples[0].value == 2
    handoffs = Counter(
        {s.labels["reason"]: s.value for s in families["tandem_handoffs"].samples if total(s)}
    )
    assert handoffs["person_requested"] == 4
    first = {s.name: s for s in families["tandem_first_response_seconds"].samples}
    assert first["tandem_first_response_seconds_count"].value == 6
    assert first["tandem_first_response_seconds_sum"].value == 1057.0
    within_a_minute = next(
        s
        for s in families["tandem_first_response_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["le"] == "60.0"
    )
    assert within_a_minute.value == 3  # 10, 30 and 45 seconds
    messages = families["tandem_messages"].samples
    assert any(
        s.labels == {"direction": "outbound", "author": "agent", "platform": "slack"}
        for s in messages
    )


async def test_without_the_database_metrics_say_so(migrated: Database) -> None:
    metrics = Metrics(database=migrated)
    await migrated.dispose()
    broken = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    metrics.database = broken
    try:
        text = (await metrics.render()).decode()
    finally:
        await broken.dispose()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["tandem_record_up"].samples[0].value == 0
    assert "tandem_handoffs" not in families
    assert "tandem_nlu_parse_seconds" in families


def total(sample: Sample) -> bool:
    return sample.name.endswith("_total")


async def test_agents_replies_by_source_drafted_edited_or_typed(
    migrated: Database, history: History
) -> None:
    conversation = await history.conversation(SINCE + timedelta(days=9))
    before = as_dict((await read_telemetry(migrated)).agent_replies)
    for n, platform_id in enumerate(("draft-1796550831.1", "edited-V0EDIT1", "1796550831.000200")):
        await history.repository.add_message(
            NewMessage(
                conversation_id=conversation,
                author=Author.AGENT,
                platform=Platform.SLACK,
                platform_chat_id="C0AGENTS",
                platform_message_id=platform_id,
                created_at=SINCE + timedelta(days=9, minutes=n),
                text="hello",
            )
        )
    after = as_dict((await read_telemetry(migrated)).agent_replies)
    assert after.get(("drafted",), 0) - before.get(("drafted",), 0) == 1
    assert after.get(("edited",), 0) - before.get(("edited",), 0) == 1
    assert after.get(("typed",), 0) - before.get(("typed",), 0) == 1
