"""Support metrics over a small, known history, on SQLite and on PostgreSQL.

The history is written through the Repository as the engine and the desk write it, with
explicit timestamps, so every figure below is worked out by hand in the comments.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from bot.commands.stats import format_duration, parse_since
from handoff.model import Author, Mode
from handoff.storage import (
    Database,
    HandoffOutcome,
    InvalidValue,
    NewMessage,
    Platform,
    Repository,
    utc_now,
)
from handoff.storage.metrics import (
    Csat,
    FirstResponse,
    ReasonCount,
    Resolution,
    SupportMetrics,
    support_metrics,
)
from tests.bot.test_cli import tandem
from tests.storage.conftest import START

SINCE = START
UNTIL = START + timedelta(days=7)
NO_RATINGS = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


class History:
    """Writes conversations the way the service does, at the times a test chooses."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._chats = 0

    async def conversation(self, opened_at: datetime) -> int:
        """A new chat's conversation: the customer writes, the bot answers."""
        self._chats += 1
        chat = str(1000 + self._chats)
        customer = await self.repository.get_or_create_customer(
            channel="telegram", platform_user_id=chat, display_name=f"Customer {chat}"
        )
        conversation = await self.repository.open_conversation(
            customer_id=customer.id, channel="telegram", chat_id=chat, at=opened_at
        )
        await self.says(conversation.id, Author.CUSTOMER, opened_at)
        await self.says(conversation.id, Author.BOT, opened_at + timedelta(seconds=1))
        return conversation.id

    async def says(self, conversation_id: int, author: Author, at: datetime) -> None:
        platform = Platform.SLACK if author is Author.AGENT else Platform.TELEGRAM
        await self.repository.add_message(
            NewMessage(
                conversation_id=conversation_id,
                author=author,
                platform=platform,
                created_at=at,
                text=f"{author} at {at.isoformat()}",
            )
        )

    async def hand_off(self, conversation_id: int, reason: str, at: datetime) -> int:
        handoff = await self.repository.create_handoff(
            conversation_id=conversation_id, reason=reason, at=at
        )
        await self.repository.update_conversation(conversation_id, mode=Mode.WAITING)
        # The bot tells the customer a person is coming: a bot message, not a response.
        await self.says(conversation_id, Author.BOT, at + timedelta(seconds=1))
        return handoff.id

    async def close(self, handoff_id: int, conversation_id: int, at: datetime) -> None:
        await self.repository.finish_handoff(handoff_id, outcome=HandoffOutcome.CLOSED, at=at)
        await self.repository.close_conversation(conversation_id, at=at)

    async def give_back(self, handoff_id: int, conversation_id: int, at: datetime) -> None:
        await self.repository.finish_handoff(handoff_id, outcome=HandoffOutcome.RETURNED, at=at)
        await self.repository.update_conversation(conversation_id, mode=Mode.BOT, failed_turns=0)

    async def rate(self, conversation_id: int, rating: int, at: datetime) -> None:
        await self.repository.rate_conversation(conversation_id, rating=rating, at=at)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


async def write_history(history: History, start: datetime) -> None:
    """Eight conversations opened from ``start`` on; the figures are in EXPECTED."""
    # Two the bot handled alone; the first opens exactly at the window's start.
    await history.conversation(start)
    bot_only = await history.conversation(start + timedelta(hours=1))
    await history.says(bot_only, Author.CUSTOMER, start + timedelta(hours=1, minutes=2))
    await history.repository.close_conversation(bot_only, at=start + timedelta(hours=2))

    # Answered after 4m 12s (and again later), closed after 1h 05m, rated 5.
    c3 = await history.conversation(start + timedelta(hours=2))
    r = start + timedelta(hours=2, minutes=1)
    h = await history.hand_off(c3, "person_requested", r)
    await history.says(c3, Author.CUSTOMER, r + seconds(30))
    await history.says(c3, Author.AGENT, r + seconds(252))
    await history.says(c3, Author.AGENT, r + seconds(600))
    await history.close(h, c3, r + seconds(3900))
    await history.rate(c3, 5, r + seconds(3960))

    # Answered after 30s, closed after 20m, rated 4.
    c4 = await history.conversation(start + timedelta(hours=3))
    r = start + timedelta(hours=3, minutes=5)
    h = await history.hand_off(c4, "frustrated", r)
    await history.says(c4, Author.AGENT, r + seconds(30))
    await history.close(h, c4, r + seconds(1200))
    await history.rate(c4, 4, r + seconds(1300))

    # Handed off twice: answered after 10m and returned to the bot; then asked for a person,
    # answered after 2m (not 10m: the first handoff's reply came before it), closed after
    # 40m, rated 2.
    c5 = await history.conversation(start + timedelta(hours=4))
    r = start + timedelta(hours=4, minutes=3)
    h = await history.hand_off(c5, "failed_turns", r)
    await history.says(c5, Author.AGENT, r + seconds(600))
    await history.give_back(h, c5, r + seconds(900))
    await history.says(c5, Author.CUSTOMER, r + seconds(1700))
    r2 = r + seconds(1800)
    h = await history.hand_off(c5, "person_requested", r2)
    await history.says(c5, Author.AGENT, r2 + seconds(120))
    await history.close(h, c5, r2 + seconds(2400))
    await history.rate(c5, 2, r2 + seconds(2500))

    # Returned to the bot unanswered after 5m; the agent's message after that was never
    # sent, so it is no response.
    c6 = await history.conversation(start + timedelta(hours=5))
    r = start + timedelta(hours=5, minutes=1)
    h = await history.hand_off(c6, "person_requested", r)
    await history.give_back(h, c6, r + seconds(300))
    await history.says(c6, Author.AGENT, r + seconds(400))

    # Still waiting: only the customer and the bot have written since.
    c7 = await history.conversation(start + timedelta(hours=6))
    r = start + timedelta(hours=6, minutes=1)
    await history.hand_off(c7, "human_only_topic", r)
    await history.says(c7, Author.CUSTOMER, r + seconds(90))

    # Claimed and answered after 45s, still in progress.
    c8 = await history.conversation(start + timedelta(hours=7))
    r = start + timedelta(hours=7, minutes=1)
    h = await history.hand_off(c8, "person_requested", r)
    await history.repository.claim_handoff(h, agent_id="U1", agent_name="Grace", at=r + seconds(20))
    await history.says(c8, Author.AGENT, r + seconds(45))


async def write_outside(history: History, since: datetime, until: datetime) -> None:
    """Conversations that must not count: opened just before ``since``, or at ``until``."""
    # Opened a minute early; its handoff falls inside the window, but the conversation
    # does not, so neither its 10s response nor its rating of 1 count.
    early = await history.conversation(since - timedelta(minutes=1))
    r = since + timedelta(minutes=1)
    h = await history.hand_off(early, "nlu_unavailable", r)
    await history.says(early, Author.AGENT, r + seconds(10))
    await history.close(h, early, r + seconds(20))
    await history.rate(early, 1, r + seconds(30))
    # The window excludes its end.
    late = await history.conversation(until)
    await history.hand_off(late, "frustrated", until + seconds(5))


def expected(since: datetime, until: datetime) -> SupportMetrics:
    return SupportMetrics(
        since=since,
        until=until,
        conversations=8,
        handed_off=6,
        escalation_rate=0.75,
        deflection_rate=0.25,
        handoffs=7,
        reasons=(
            ReasonCount("person_requested", 4),
            # Ties in name order.
            ReasonCount("failed_turns", 1),
            ReasonCount("frustrated", 1),
            ReasonCount("human_only_topic", 1),
        ),
        # Answered after 30, 45, 120, 252, 600 seconds: the median is 120; the 90th
        # percentile lies 0.6 of the way from 252 to 600 (position 0.9 * 4 = 3.6).
        first_response=FirstResponse(
            answered=5, median_seconds=120.0, p90_seconds=460.8, waiting=1, unanswered=1
        ),
        # Closed after 1200, 2400, 3900 seconds: p90 at position 1.8 is 2400 + 0.8 * 1500.
        resolution=Resolution(closed=3, median_seconds=2400.0, p90_seconds=3600.0),
        returned_to_bot=2,
        csat=Csat(
            ratings=3,
            mean=11 / 3,
            satisfied_rate=2 / 3,
            distribution={1: 0, 2: 1, 3: 0, 4: 1, 5: 1},
        ),
    )


@pytest.fixture
async def history(repository: Repository) -> History:
    history = History(repository)
    await write_history(history, SINCE)
    await write_outside(history, SINCE, UNTIL)
    return history


async def test_every_figure_of_a_known_history(migrated: Database, history: History) -> None:
    metrics = await support_metrics(migrated, since=SINCE, until=UNTIL)

    assert metrics == expected(SINCE, UNTIL)


async def test_a_window_holding_one_conversation(migrated: Database, history: History) -> None:
    # The third conversation alone: answered after 4m 12s, closed after 1h 05m, rated 5.
    since = SINCE + timedelta(hours=2)
    metrics = await support_metrics(migrated, since=since, until=since + seconds(1))

    assert metrics == SupportMetrics(
        since=since,
        until=since + seconds(1),
        conversations=1,
        handed_off=1,
        escalation_rate=1.0,
        deflection_rate=0.0,
        handoffs=1,
        reasons=(ReasonCount("person_requested", 1),),
        first_response=FirstResponse(
            answered=1, median_seconds=252.0, p90_seconds=252.0, waiting=0, unanswered=0
        ),
        resolution=Resolution(closed=1, median_seconds=3900.0, p90_seconds=3900.0),
        returned_to_bot=0,
        csat=Csat(ratings=1, mean=5.0, satisfied_rate=1.0, distribution={**NO_RATINGS, 5: 1}),
    )


async def test_an_empty_window_has_no_rates_and_no_times(
    migrated: Database, history: History
) -> None:
    since = UNTIL + timedelta(days=30)
    metrics = await support_metrics(migrated, since=since, until=since + timedelta(days=7))

    assert metrics == SupportMetrics(
        since=since,
        until=since + timedelta(days=7),
        conversations=0,
        handed_off=0,
        escalation_rate=None,
        deflection_rate=None,
        handoffs=0,
        reasons=(),
        first_response=FirstResponse(
            answered=0, median_seconds=None, p90_seconds=None, waiting=0, unanswered=0
        ),
        resolution=Resolution(closed=0, median_seconds=None, p90_seconds=None),
        returned_to_bot=0,
        csat=Csat(ratings=0, mean=None, satisfied_rate=None, distribution=NO_RATINGS),
    )


async def test_the_window_must_be_aware_and_in_order(migrated: Database) -> None:
    with pytest.raises(InvalidValue, match="since must be timezone-aware"):
        await support_metrics(migrated, since=SINCE.replace(tzinfo=None), until=UNTIL)
    with pytest.raises(InvalidValue, match="is after until"):
        await support_metrics(migrated, since=UNTIL, until=SINCE)


# --- tandem stats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds_", "shown"),
    [
        (None, "-"),
        (0.4, "0s"),
        (42, "42s"),
        (252, "4m 12s"),
        (460.8, "7m 41s"),
        (3900, "1h 05m"),
        (3 * 86_400 + 7_500, "3d 02h"),
    ],
)
def test_durations_read_as_two_units(seconds_: float | None, shown: str) -> None:
    assert format_duration(seconds_) == shown


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("7d", START - timedelta(days=7)),
        ("24h", START - timedelta(hours=24)),
        (" 30d ", START - timedelta(days=30)),
        ("2026-02-14", datetime(2026, 2, 14, tzinfo=UTC)),
    ],
)
def test_since_accepts_days_hours_and_dates(text: str, since: datetime) -> None:
    assert parse_since(text, now=START) == since


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense", "expected a number of days (7d), of hours (24h) or a date (YYYY-MM-DD)"),
        ("7w", "expected a number of days (7d), of hours (24h) or a date (YYYY-MM-DD)"),
        ("0d", "must be at least 1d"),
        ("2026-03-02", "2026-03-02 is in the future"),
    ],
)
def test_since_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter) as caught:
        parse_since(text, now=START)
    assert caught.value.message == message


@pytest.fixture
async def project(tmp_path: Path) -> Path:
    """A project whose SQLite database holds the history, opened a day ago."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "tandem.yml").write_text("data_dir: var\n", encoding="utf-8")
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'tandem.db'}")
    try:
        await database.upgrade()
        await write_history(History(Repository(database=database)), utc_now() - timedelta(days=1))
    finally:
        await database.dispose()
    return tmp_path


def test_stats_prints_a_table(project: Path) -> None:
    url = f"sqlite:///{project / 'var' / 'tandem.db'}"
    ran = tandem(project, "stats", "--since", "30d", DATABASE_URL=url)

    assert ran.code == 0, ran.err
    heading, blank, *table = ran.out.splitlines()
    assert heading.startswith("Conversations opened ")
    assert heading.endswith(" (30d)")
    assert blank == ""
    assert table == [
        "conversations                         8",
        "handed to a person                    6  75.0%",
        "handled by the bot                    2  25.0%",
        "handoffs                              7",
        "  person_requested                    4",
        "  failed_turns                        1",
        "  frustrated                          1",
        "  human_only_topic                    1",
        "first response, median           2m 00s  5 answered",
        "first response, p90              7m 41s",
        "waiting for a first response          1",
        "ended without an agent reply          1",
        "resolution, median              40m 00s  3 closed",
        "resolution, p90                  1h 00m",
        "returned to the bot                   2",
        "CSAT                               3.67  3 ratings",
        "CSAT 4-5                          66.7%",
        "CSAT 1/2/3/4/5                0/1/0/1/1",
    ]

    as_json = tandem(project, "stats", "--since", "30d", "--json", DATABASE_URL=url)
    assert as_json.code == 0, as_json.err
    document = json.loads(as_json.out)
    assert document["first_response"]["p90_seconds"] == 460.8
    assert document["csat"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert document["reasons"][0] == {"reason": "person_requested", "count": 4}


def test_stats_with_a_bad_since_is_one_line(project: Path) -> None:
    ran = tandem(project, "stats", "--since", "nonsense")

    assert ran.code == 2
    assert ran.out == ""
    assert ran.err_lines == [
        "tandem: --since nonsense: expected a number of days (7d), of hours (24h) "
        "or a date (YYYY-MM-DD)"
    ]
