"""`tandem privacy export|erase|expire` on the embedded database: what a customer's data
looks like written out, gone, and past the retention period; mistakes in one line."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.settings import load_settings
from handoff.model import Author
from handoff.records import NewMessage, Platform
from handoff.storage import Database, Repository, utc_now
from handoff.storage.privacy_queries import PrivacyStore
from tests.bot.test_settings import clean_environment, write_config

__all__ = ["clean_environment"]  # autouse: an empty project folder, no Tandem variables
CARD = "4111 1111 1111 1111"
REPO = Path(__file__).resolve().parents[2]


def _project(root: Path, *, close: bool = True) -> Path:
    config = write_config(root, "data_dir: data\nprivacy:\n  retention_days: 30\n")
    # The export explains each message's delivery state in the catalogue's words.
    shipped = (REPO / "config" / "responses.yml").read_text(encoding="utf-8")
    (root / "config" / "responses.yml").write_text(shipped, encoding="utf-8")
    settings = load_settings(config)
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        database = Database.from_url(settings.database_url)
        try:
            await database.upgrade()
            repository = Repository(database=database)
            customer = await repository.get_or_create_customer(
                channel="telegram", platform_user_id="4242", display_name="Grace"
            )
            conversation = await repository.open_conversation(
                customer_id=customer.id, channel="telegram", chat_id="4242"
            )
            await repository.add_message(
                NewMessage(
                    conversation_id=conversation.id,
                    author=Author.CUSTOMER,
                    platform=Platform.TELEGRAM,
                    created_at=utc_now(),
                    text=f"card {CARD}",
                )
            )
            if close:
                await repository.close_conversation(conversation.id)
        finally:
            await database.dispose()

    asyncio.run(fill())
    return config


def _events(config: Path) -> list[str]:
    async def read() -> list[str]:
        database = Database.from_url(load_settings(config).database_url)
        try:
            return [e.kind.value for e in await PrivacyStore(database=database).events()]
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_export_then_erase(clean_environment: Path) -> None:
    config = _project(clean_environment)
    runner = CliRunner()
    out = clean_environment / "grace.json"
    done = runner.invoke(
        cli, ["privacy", "export", "--customer", "telegram:4242", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["conversations"][0]["messages"][0]["text"] == f"card {CARD}"
    assert exported["conversations"][0]["messages"][0]["delivery"] == "received"
    assert "received" in exported["delivery_states"]["received"]

    done = runner.invoke(cli, ["privacy", "erase", "--customer", "telegram:4242", "--yes"])
    assert done.exit_code == 0, done.output
    assert "1 conversation(s), 1 message(s), 0 handoff(s)" in done.output
    assert "SLACK_BOT_TOKEN is not set" in done.output
    assert _events(config) == ["exported", "erased"]

    trail = runner.invoke(cli, ["privacy", "audit", "--customer", "1"])
    assert trail.exit_code == 0, trail.output
    # The audit's lines, not the log's (which start with the date and time, then the level).
    lines = [
        line
        for line in trail.output.splitlines()
        if line[:4].isdigit() and line.split()[2:3] != ["INFO"]
    ]
    assert [line.split()[1] for line in lines] == ["exported", "erased"]
    assert "customer 1; 1 row(s)" not in lines[1]
    assert "customer 1; 2 row(s)" in lines[1]
    assert CARD not in trail.output

    again = runner.invoke(cli, ["privacy", "export", "--customer", "telegram:4242"])
    assert again.exit_code == 1
    assert again.output.strip().endswith(
        "no customer 'telegram:4242': give Tandem's customer id (42) or the chat (telegram:123456)"
    )


def test_erase_refuses_an_open_conversation_the_running_service_holds(
    clean_environment: Path,
) -> None:
    _project(clean_environment, close=False)
    runner = CliRunner()
    done = runner.invoke(cli, ["privacy", "erase", "--customer", "1", "--yes"])
    assert done.exit_code == 1
    assert "has an open conversation" in done.output
    done = runner.invoke(cli, ["privacy", "erase", "--customer", "1", "--yes", "--service-stopped"])
    assert done.exit_code == 0, done.output
    assert "1 conversation(s), 1 message(s)" in done.output


def test_erase_without_a_terminal_wants_yes(clean_environment: Path) -> None:
    _project(clean_environment)
    done = CliRunner().invoke(cli, ["privacy", "erase", "--customer", "1"])
    assert done.exit_code == 2
    assert "add --yes" in done.output


def test_expire_keeps_recent_texts(clean_environment: Path) -> None:
    _project(clean_environment)
    done = CliRunner().invoke(cli, ["privacy", "expire"])
    assert done.exit_code == 0, done.output
    assert "older than 30 days removed: 0 message(s), 0 card(s), 0 file(s)" in done.output


def test_expire_removes_quarantine_files_quiet_for_the_whole_period(
    clean_environment: Path,
) -> None:
    _project(clean_environment)
    quarantine = clean_environment / "data" / "quarantine"
    quarantine.mkdir()
    old, new = quarantine / "telegram-quarantine.jsonl", quarantine / "newer.jsonl"
    old.write_text('{"update_id": 1}\n', encoding="utf-8")
    new.write_text('{"update_id": 2}\n', encoding="utf-8")
    month_ago = time.time() - 31 * 24 * 3600
    os.utime(old, (month_ago, month_ago))
    done = CliRunner().invoke(cli, ["privacy", "expire"])
    assert done.exit_code == 0, done.output
    assert "1 file(s)" in done.output
    assert not old.exists()
    assert new.exists()
