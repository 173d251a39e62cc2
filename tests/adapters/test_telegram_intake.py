"""Updates that cannot be taken in, by long polling and by webhook: the real adapter and PTB
against the Telegram simulator.

Before the fix, one update PTB could not decode (``date: 10**15``) made PTB fetch the same
batch again at once, forever: in 3 seconds 222 getUpdates calls, 0 updates handled (of
the chat's later message and another chat's), 1.15 MB of log, and ``stop()`` raised. A
``text`` that was a list reached the handler as a list.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.handover import Handovers
from bot.adapters.telegram.quarantine import QUARANTINE_FILE
from bot.simulators.telegram import SECRET_HEADER, TelegramSimulator, telegram_user
from handoff.errors import IntakeUnavailable
from handoff.model import Inbound
from tests.adapters.test_telegram_adapter import (
    CHAT,
    OTHER_CHAT,
    SECRET,
    RecordingHandler,
    polling_adapter,
    webhook_adapter,
)

UNDECODABLE = {"date": 10**15}  # a year past 9999: PTB's datetime fails
UNREADABLE = {"text": ["not", "a", "string"]}  # PTB decodes it; the adapter refuses it


class FlakyIntake(RecordingHandler):
    """Cannot record the texts in ``unrecordable`` (their remaining count of failures);
    notes when it returned for each text."""

    def __init__(self) -> None:
        super().__init__()
        self.unrecordable: dict[str, int] = {}
        self.returned_at: dict[str, float] = {}

    async def handle(self, inbound: Inbound) -> None:
        left = self.unrecordable.get(inbound.text or "", 0)
        if left:
            self.unrecordable[inbound.text or ""] = left - 1
            raise IntakeUnavailable("the intake journal is on a full disk")
        await super().handle(inbound)
        self.returned_at[inbound.text or ""] = time.monotonic()


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    async with TelegramSimulator() as simulator:
        yield simulator


@pytest.fixture
def handler() -> FlakyIntake:
    return FlakyIntake()


@pytest.fixture
async def polling(
    sim: TelegramSimulator, handler: FlakyIntake, tmp_path: Path
) -> AsyncIterator[TelegramAdapter]:
    async with polling_adapter(sim, handler, quarantine_dir=tmp_path / "quarantine") as telegram:
        yield telegram


def quarantined(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "quarantine" / QUARANTINE_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]


def lines_about(caplog: pytest.LogCaptureFixture, update_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if str(update_id) in r.getMessage()]


# --- long polling ---------------------------------------------------------------------


async def test_an_undecodable_update_is_kept_logged_once_and_skipped(
    polling: TelegramAdapter,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = sim.send_malformed(CHAT, UNDECODABLE)
    sim.send_text(CHAT, "after the bad one")
    sim.send_text(OTHER_CHAT, "another chat")

    received = await handler.wait_finished(2)

    assert sorted(i.text or "" for i in received) == ["after the bad one", "another chat"]
    (kept,) = quarantined(tmp_path)
    assert kept["update_id"] == bad.update_id
    assert "year" in kept["error"]
    assert kept["update"]["message"]["date"] == 10**15
    # Confirmed to Telegram like any other update (the next long poll confirms on arrival).
    await sim.wait_for_long_poll()
    assert sim.pending_updates == []
    assert len(sim.calls_to("getUpdates")) == 1  # before the fix: hundreds a second
    (line,) = [r for r in lines_about(caplog, bad.update_id) if r.levelno >= logging.WARNING]
    assert line.exc_info is None
    assert "Traceback" not in caplog.text
    assert str(tmp_path / "quarantine" / QUARANTINE_FILE) in line.getMessage()


async def test_a_text_that_is_not_a_string_is_kept_and_skipped(
    polling: TelegramAdapter,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = sim.send_malformed(CHAT, UNREADABLE)
    sim.send_text(CHAT, "after the list")

    (after,) = await handler.wait_finished(1)

    assert after.text == "after the list"
    assert [i.text for i in handler.started] == ["after the list"]
    (kept,) = quarantined(tmp_path)
    assert kept["update_id"] == bad.update_id
    assert kept["error"] == "its text is a list, not a string"
    assert kept["update"]["message"]["text"] == ["not", "a", "string"]
    assert len(lines_about(caplog, bad.update_id)) == 1
    assert "Traceback" not in caplog.text


async def test_a_batch_of_bad_updates_among_good_ones_loses_only_the_bad(
    polling: TelegramAdapter, sim: TelegramSimulator, handler: FlakyIntake, tmp_path: Path
) -> None:
    expected = []
    bad_ids = []
    for number in range(21):  # one chat, so all is done when its last (good) one is
        if number % 4 == 1:
            bad_ids.append(sim.send_malformed(CHAT, UNDECODABLE).update_id)
        elif number % 4 == 3:
            bad_ids.append(sim.send_malformed(CHAT, UNREADABLE).update_id)
        else:
            sim.send_text(CHAT, f"good {number}")
            expected.append(f"good {number}")

    received = await handler.wait_finished(len(expected))

    assert [i.text for i in received] == expected
    assert sorted(k["update_id"] for k in quarantined(tmp_path)) == bad_ids


async def test_an_update_the_handler_cannot_record_is_logged_once_and_kept(
    polling: TelegramAdapter,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.unrecordable["lost?"] = 1
    lost = sim.send_text(CHAT, "lost?")
    sim.send_text(CHAT, "next")

    (after,) = await handler.wait_finished(1)

    assert after.text == "next"
    (line,) = lines_about(caplog, lost.update_id)
    assert line.levelno == logging.ERROR
    assert "could not record it (the intake journal is on a full disk)" in line.getMessage()
    (kept,) = quarantined(tmp_path)
    assert (kept["update_id"], kept["update"]["message"]["text"]) == (lost.update_id, "lost?")


async def test_without_a_quarantine_directory_the_log_says_nothing_was_kept(
    sim: TelegramSimulator, handler: FlakyIntake, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = TelegramAdapter(token=sim.token, api_url=sim.api_url, handler=handler)
    bad = sim.send_malformed(CHAT, UNDECODABLE)
    sim.send_text(CHAT, "after")
    await telegram.start()
    try:
        await handler.wait_finished(1)
    finally:
        await telegram.stop()

    (line,) = lines_about(caplog, bad.update_id)
    assert "not kept: no quarantine directory is set" in line.getMessage()


async def test_polling_confirms_updates_before_the_handler_returned(
    polling: TelegramAdapter, sim: TelegramSimulator, handler: FlakyIntake
) -> None:
    # The window documented in the adapter: by default, PTB's next long poll confirms an
    # update to Telegram while the handler still works on it.
    handler.gates[str(CHAT)] = gate = asyncio.Event()
    sim.send_text(CHAT, "still being recorded")
    await handler.wait_started(1)

    await sim.wait_for_long_poll()
    assert sim.pending_updates == []  # Telegram would not send it again after a crash
    gate.set()


async def test_confirm_after_handover_waits_for_the_handler(
    sim: TelegramSimulator, handler: FlakyIntake
) -> None:
    handler.gates[str(CHAT)] = gate = asyncio.Event()
    async with polling_adapter(sim, handler, confirm_after_handover=30.0):
        first = sim.send_text(CHAT, "still being recorded")
        await handler.wait_started(1)
        sim.send_text(OTHER_CHAT, "another chat, meanwhile")
        await asyncio.sleep(0.2)  # a chance for a poll that is not held back (by default)
        still_pending = [u["update_id"] for u in sim.pending_updates]
        gate.set()
        finished = await handler.wait_finished(2)
        confirming = await sim.wait_for_call(
            "getUpdates", lambda call: int(call.params.get("offset", 0)) > first.update_id
        )

    # Telegram heard of it only after the handler had it; the next poll waited for that.
    assert still_pending[:1] == [first.update_id]
    assert confirming.at >= handler.returned_at["still being recorded"]
    assert [i.text for i in finished] == ["still being recorded", "another chat, meanwhile"]


async def test_handovers_settle_when_every_update_was_handed_over() -> None:
    handovers = Handovers(patience=30.0)
    await handovers.settled()  # nothing fetched yet

    handovers.fetched([1, 2])
    waiting = asyncio.create_task(handovers.settled())
    handovers.handed_over(1)
    await asyncio.sleep(0)
    one_left = waiting.done()
    handovers.handed_over(2)
    await asyncio.wait_for(waiting, timeout=5)

    assert not one_left


async def test_confirm_after_handover_gives_up_waiting_after_its_patience(
    sim: TelegramSimulator, handler: FlakyIntake, caplog: pytest.LogCaptureFixture
) -> None:
    handler.gates[str(CHAT)] = gate = asyncio.Event()  # the handler hangs on this chat
    async with polling_adapter(sim, handler, confirm_after_handover=0.5):
        stuck = sim.send_text(CHAT, "stuck")
        await handler.wait_started(1)
        sim.send_text(OTHER_CHAT, "not held up for good")
        (other,) = await handler.wait_finished(1)
        gate.set()  # or stopping would wait for it

    assert other.text == "not held up for good"
    (line,) = lines_about(caplog, stuck.update_id)
    assert "before the handler returned (waited 0.5 s)" in line.getMessage()


async def test_customers_text_is_made_encodable(
    polling: TelegramAdapter, sim: TelegramSimulator, handler: FlakyIntake
) -> None:
    # Before: both texts reached the handler with "\ud800" and "\udfff" in them, which
    # no database and no JSON encoder for the NLU accepts; the message was then lost.
    ada = telegram_user(CHAT, first_name="Ad\udfffa", last_name=None)
    sim.send_text(CHAT, "my order \ud800 is late", user=ada)
    sim.send_photo(CHAT, caption="receipt \udfff")
    sim.send_command(CHAT, "/human now \ud800")

    text, photo, command = await handler.wait_finished(3)

    assert text.text == "my order \ufffd is late"
    assert text.customer.display_name == "Ad\ufffda"
    assert photo.text == "receipt \ufffd"
    assert (command.command, command.text) == ("human", "now \ufffd")


# --- webhook --------------------------------------------------------------------------


@pytest.fixture
async def webhook(
    sim: TelegramSimulator, handler: FlakyIntake, tmp_path: Path
) -> AsyncIterator[str]:
    async with webhook_adapter(sim, handler, quarantine_dir=tmp_path / "quarantine") as (_, url):
        yield url


async def test_the_webhook_answers_only_once_the_handler_returned(
    webhook: str, sim: TelegramSimulator, handler: FlakyIntake
) -> None:
    handler.gates[str(CHAT)] = gate = asyncio.Event()
    injected = sim.send_text(CHAT, "slow to record")
    await handler.wait_started(1)

    assert sim.webhook_deliveries == []  # the POST is still waiting for the handler
    gate.set()
    delivery = await sim.wait_for_webhook_delivery(injected.update_id)
    assert delivery.status == 200
    assert [i.text for i in handler.finished] == ["slow to record"]


async def test_an_unrecorded_update_gets_500_and_comes_again_in_order(
    webhook: str,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.unrecordable["first"] = 2
    first = sim.send_text(CHAT, "first")
    sim.send_text(CHAT, "second")

    received = await handler.wait_finished(2)

    assert [i.text for i in received] == ["first", "second"]
    statuses = [d.status for d in sim.webhook_deliveries if d.update_id == first.update_id]
    assert statuses == [500, 500, 200]
    assert len(lines_about(caplog, first.update_id)) == 2  # one line per refused attempt
    assert "Traceback" not in caplog.text


async def test_the_webhook_keeps_undecodable_updates_and_answers_200(
    webhook: str,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    undecodable = sim.send_malformed(CHAT, UNDECODABLE)
    unreadable = sim.send_malformed(CHAT, UNREADABLE)
    sim.send_text(CHAT, "after both")

    (after,) = await handler.wait_finished(1)

    assert after.text == "after both"
    for bad in (undecodable, unreadable):
        (delivery,) = [d for d in sim.webhook_deliveries if d.update_id == bad.update_id]
        assert delivery.status == 200
    assert [k["update_id"] for k in quarantined(tmp_path)] == [
        undecodable.update_id,
        unreadable.update_id,
    ]
    assert "Traceback" not in caplog.text


async def test_a_handler_failure_is_logged_with_its_stack_kept_and_answered_200(
    webhook: str,
    sim: TelegramSimulator,
    handler: FlakyIntake,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler.failing_texts.add("boom")
    boom = sim.send_text(CHAT, "boom")
    sim.send_text(CHAT, "after")

    await handler.wait_finished(1)

    (delivery,) = [d for d in sim.webhook_deliveries if d.update_id == boom.update_id]
    assert delivery.status == 200  # a retry would fail the same way, and hold the chat up
    (line,) = lines_about(caplog, boom.update_id)
    assert "RuntimeError: handler failed on 'boom'" in line.getMessage()
    assert "Traceback" in line.getMessage()
    assert sim.token not in caplog.text
    assert [k["update_id"] for k in quarantined(tmp_path)] == [boom.update_id]


async def test_bodies_that_are_no_update_get_400_without_a_traceback(
    webhook: str, handler: FlakyIntake, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        answers = [
            await client.post(webhook, content=body, headers={SECRET_HEADER: SECRET})
            for body in (b"{", b"[]", b'{"message": {}}', b"\xff\xfe", b'{"update_id": "1"}')
        ]

    assert [a.status_code for a in answers] == [400] * 5
    assert handler.started == []
    assert "Traceback" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
