"""`tandem nlu review` and `tandem nlu learn` on the embedded database and a copy of the
trainers' folder: lessons listed by intent, accepted and rejected with flags, written as
valid Rasa YAML (never an example of another intent), the domain kept in step."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.settings import load_settings
from handoff.lessons import LessonStatus, NewLesson
from handoff.storage import Database, utc_now
from handoff.storage.lesson_queries import LessonQueries
from nlu.learned import domain_names
from nlu.validation import load_examples, validate_nlu_data
from tests.bot.test_settings import clean_environment, write_config

__all__ = ["clean_environment"]  # autouse: an empty project folder, no Tandem variables
REPO = Path(__file__).resolve().parents[2]
TAUGHT = [
    ("i was billed for [card] twice this month", "billing_question"),
    ("the invoice pdf wont open", "billing_question"),
    ("where is my order", "billing_question"),  # an example of order_status already
    ("whats the weather", "out_of_scope"),
    ("please move my seat", "change_seat"),  # a new intent, one example only
]


def _project(root: Path) -> Path:
    shutil.copytree(
        REPO / "nlu", root / "nlu", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    config = write_config(root, "data_dir: data\n")
    settings = load_settings(config)
    settings.data_dir.mkdir(parents=True)

    async def teach() -> None:
        database = Database.from_url(settings.database_url)
        try:
            await database.upgrade()
            store = LessonQueries(database=database)
            for number, (text, intent) in enumerate(TAUGHT, start=1):
                await store.add_lesson(
                    NewLesson(
                        message_id=number,
                        handoff_id=1,
                        text=text,
                        intent=intent,
                        taught_by_id="U1",
                        taught_by_name="Alice",
                        taught_at=utc_now(),
                        model="old.tar.gz",
                    )
                )
        finally:
            await database.dispose()

    asyncio.run(teach())
    return config


def _statuses(config: Path) -> dict[str, str]:
    async def read() -> dict[str, str]:
        database = Database.from_url(load_settings(config).database_url)
        try:
            return {
                x.text: x.status.value for x in await LessonQueries(database=database).lessons()
            }
        finally:
            await database.dispose()

    return asyncio.run(read())


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "nlu", *args])
    return result.exit_code, result.output


def test_review_lists_by_intent_then_accepts_and_rejects_with_flags(tmp_path: Path) -> None:
    config = _project(tmp_path)
    code, out = _run(config, "review")
    assert code == 0, out
    assert "5 lesson(s) waiting for review" in out
    assert out.index("billing_question (3)") < out.index("change_seat (1)")
    assert "#1  i was billed for [card] twice this month   (by Alice)" in out

    code, out = _run(config, "review", "--accept", "1,2,3,5", "--reject", "#4", "--by", "tom")
    assert code == 0, out
    assert "4 accepted, 1 rejected" in out
    assert "no lessons waiting for review" in _run(config, "review")[1]
    code, out = _run(config, "review", "--accept", "99")
    assert code == 0  # nothing pending: nothing to look up


def test_review_refuses_an_unknown_id_in_one_line(tmp_path: Path) -> None:
    config = _project(tmp_path)
    code, out = _run(config, "review", "--accept", "1,x")
    assert code == 1
    assert "'x' is not a pending lesson's id" in out


def test_learn_writes_valid_yaml_and_keeps_the_domain_in_step(tmp_path: Path) -> None:
    config = _project(tmp_path)
    _run(config, "review", "--accept", "all")
    code, out = _run(config, "learn")
    assert code == 0, out
    assert "'where is my order' is already an example of order_status: not written" in out
    assert "the new intent change_seat has too few examples yet" in out
    assert "3 example(s) written" in out
    data = tmp_path / "nlu" / "data"
    learned = load_examples([data / "learned.yml"])
    assert {i: [e.text for e in xs] for i, xs in learned.items()} == {
        "billing_question": [
            "i was billed for <card> twice this month",
            "the invoice pdf wont open",
        ],
        "out_of_scope": ["whats the weather"],
    }
    assert validate_nlu_data([data]).ok
    intents, entities = domain_names(tmp_path / "nlu" / "domain.yml")
    assert set(intents) == set(validate_nlu_data([data]).intents)
    assert entities == ["email", "order_id", "plan"]
    statuses = _statuses(config)
    assert statuses["where is my order"] == LessonStatus.ACCEPTED.value  # a conflict stays
    assert statuses["please move my seat"] == LessonStatus.ACCEPTED.value  # waiting
    assert statuses["the invoice pdf wont open"] == LessonStatus.LEARNED.value
    # Learning again writes nothing twice.
    code, out = _run(config, "learn")
    assert "0 example(s) written" in out
