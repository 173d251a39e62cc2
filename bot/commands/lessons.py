"""``tandem nlu review`` and ``tandem nlu learn``: trainers accept or reject what agents
taught, write the accepted lessons into the training data, and measure the effect."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import click

from bot.app import nlu_parts, open_nlu
from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from bot.settings import Settings
from handoff.clock import utc_now
from handoff.lessons import (
    Lesson,
    LessonStatus,
    by_intent,
    effect,
    example_text,
    plan_learning,
)
from handoff.storage import Database
from handoff.storage.lesson_queries import LessonQueries
from nlu.learned import DOMAIN_FILE, LEARNED_FILE, add_learned, domain_names, write_domain
from nlu.validation import load_examples, normalize_example, validate_nlu_data

T = TypeVar("T")
SHOWN_PER_INTENT = 5  # examples listed under each intent


async def with_lessons(settings: Settings, work: Callable[[LessonQueries], Awaitable[T]]) -> T:
    database = Database.from_url(settings.database_url)
    try:
        await database.upgrade()
        return await work(LessonQueries(database=database))
    finally:
        await database.dispose()


def read_lessons(settings: Settings, *statuses: LessonStatus) -> list[Lesson]:
    return run_async(with_lessons(settings, lambda store: store.lessons(statuses=statuses)))


def mark(settings: Settings, ids: Sequence[int], status: LessonStatus, *, by: str) -> int:
    return run_async(
        with_lessons(settings, lambda store: store.set_status(ids, status, by=by, at=utc_now()))
    )


def show_groups(lessons: Sequence[Lesson], *, every: bool = False) -> None:
    for intent, group in by_intent(lessons):
        echo(f"{intent} ({len(group)})")
        shown = group if every else group[:SHOWN_PER_INTENT]
        for lesson in shown:
            echo(f"  #{lesson.id}  {lesson.text}   (by {lesson.taught_by_name})")
        if len(shown) < len(group):
            echo(f"  ... and {len(group) - len(shown)} more")


def parse_ids(text: str | None, known: Sequence[Lesson]) -> list[int]:
    """Lesson ids written as "3,4,9" (or "all"), each one of ``known``."""
    if not text:
        return []
    if text.strip() == "all":
        return [lesson.id for lesson in known]
    numbers = {lesson.id for lesson in known}
    ids = []
    for part in text.replace(" ", "").split(","):
        number = int(part.lstrip("#")) if part.lstrip("#").isdigit() else None
        if number is None or number not in numbers:
            fail([f"{part!r} is not a pending lesson's id; `tandem nlu review` lists them"])
        ids.append(number)
    return ids


def review_interactively(lessons: Sequence[Lesson], *, by: str, settings: Settings) -> None:
    """One intent at a time: accept or reject the whole group, go through it one by one, or
    leave it pending."""
    for intent, group in by_intent(lessons):
        echo()
        show_groups(group, every=True)
        choice = click.prompt(
            f"{intent}: [a]ccept all, [r]eject all, [o]ne by one, [s]kip, [q]uit",
            type=click.Choice(["a", "r", "o", "s", "q"]),
            default="s",
        )
        if choice == "q":
            return
        if choice in {"a", "r"}:
            status = LessonStatus.ACCEPTED if choice == "a" else LessonStatus.REJECTED
            mark(settings, [lesson.id for lesson in group], status, by=by)
            echo(f"{len(group)} {status.value}")
        if choice == "o":
            for lesson in group:
                answer = click.prompt(
                    f"#{lesson.id} {lesson.text!r} -> {intent}: [a]ccept, [r]eject, [s]kip",
                    type=click.Choice(["a", "r", "s"]),
                    default="s",
                )
                if answer != "s":
                    status = LessonStatus.ACCEPTED if answer == "a" else LessonStatus.REJECTED
                    mark(settings, [lesson.id], status, by=by)


def learn_accepted(settings: Settings, *, by: str) -> int:
    """Write the accepted lessons into the trainers' data and keep the domain in step;
    how many examples were written. Nothing changes when the data would not validate."""
    parts = nlu_parts(settings)
    accepted = read_lessons(settings, LessonStatus.ACCEPTED)
    existing = {
        normalize_example(example.text): intent
        for intent, examples in load_examples([parts.data_dir]).items()
        for example in examples
    }
    plan = plan_learning(
        accepted,
        existing,
        key=normalize_example,
        min_new=settings.config.nlu.min_examples_per_intent,
    )
    for lesson, other in plan.conflicts:
        echo(f"  #{lesson.id} {lesson.text!r} is already an example of {other}: not written")
    for lesson in plan.waiting:
        echo(f"  #{lesson.id} waits: the new intent {lesson.intent} has too few examples yet")
    learned, domain = parts.data_dir / LEARNED_FILE, parts.data_dir.parent / DOMAIN_FILE
    before = {
        path: path.read_text("utf-8") if path.exists() else None for path in (learned, domain)
    }
    add_learned(learned, [(lesson.intent, example_text(lesson.text)) for lesson in plan.write])
    report = validate_nlu_data(
        [parts.data_dir], min_examples=settings.config.nlu.min_examples_per_intent
    )
    if report.ok:
        _, entities = domain_names(domain) if domain.exists() else ([], [])
        write_domain(domain, intents=report.intents, entities=entities)
    else:
        for path, text in before.items():  # put the files back as they were
            path.unlink(missing_ok=True) if text is None else path.write_text(text, "utf-8")
        for problem in report.errors:
            echo(problem.format(settings.root))
        fail(["the learned examples would not validate; nothing was written"])
    done = [lesson.id for lesson in (*plan.write, *plan.present)]
    mark(settings, done, LessonStatus.LEARNED, by=by)
    echo(
        f"{len(plan.write)} example(s) written to {learned}; {len(plan.present)} already there; "
        f"{len(plan.conflicts)} conflict(s); {len(plan.waiting)} waiting"
    )
    return len(plan.write)


def show_effect(settings: Settings, lessons: Sequence[Lesson]) -> None:
    """Per model that failed, how many taught texts the current model understands as taught."""
    if not lessons:
        echo("no learned lessons to measure")
        return

    async def parse_all() -> dict[int, str]:
        understood: dict[int, str] = {}
        async with open_nlu(settings) as parser:
            for lesson in lessons:
                result = await parser.parse(lesson.text)
                understood[lesson.id] = result.intent.name if result.intent else ""
        return understood

    understood = run_async(parse_all())
    current = nlu_parts(settings).store.current()
    echo(f"understood as taught by the current model ({current.name if current else 'external'}):")
    for row in effect(lessons, understood):
        echo(f"  lessons that model {row.model} failed: {row.understood} of {row.taught}")


def reviewer(by: str | None) -> str:
    return by or getpass.getuser()


def interactive() -> bool:
    return sys.stdin.isatty()


@click.command(short_help="List, accept or reject what agents taught the bot.")
@click.option("--accept", "accept", metavar="IDS", help='Accept these lessons: "3,4" or "all".')
@click.option("--reject", "reject", metavar="IDS", help='Reject these lessons: "5" or "all".')
@click.option("--intent", help="Only the lessons teaching this intent.")
@click.option("--effect", "show", is_flag=True, help="How many learned lessons are now understood.")
@click.option("--by", help="The reviewer's name (default: your login).")
@pass_cli
@explained
def review(
    cli: CliContext,
    *,
    accept: str | None,
    reject: str | None,
    intent: str | None,
    show: bool,
    by: str | None,
) -> None:
    """Lessons agents taught, grouped by intent with counts. Accept or reject them with
    --accept/--reject, or one intent at a time when run in a terminal without them."""
    settings = cli.settings
    if show:
        show_effect(settings, read_lessons(settings, LessonStatus.LEARNED))
        return
    pending = [
        lesson
        for lesson in read_lessons(settings, LessonStatus.PENDING)
        if intent is None or lesson.intent == intent
    ]
    if not pending:
        echo("no lessons waiting for review")
        return
    accepted, rejected = parse_ids(accept, pending), parse_ids(reject, pending)
    if set(accepted) & set(rejected):
        fail(["a lesson cannot be both accepted and rejected"])
    if accepted or rejected:
        count = mark(settings, accepted, LessonStatus.ACCEPTED, by=reviewer(by))
        count_rejected = mark(settings, rejected, LessonStatus.REJECTED, by=reviewer(by))
        echo(f"{count} accepted, {count_rejected} rejected; `tandem nlu learn` writes the accepted")
        return
    echo(f"{len(pending)} lesson(s) waiting for review")
    show_groups(pending)
    if interactive():
        review_interactively(pending, by=reviewer(by), settings=settings)


@click.command(short_help="Write the accepted lessons into the training data.")
@click.option(
    "--effect", "measure", is_flag=True, help="Then train, and show what the new model understands."
)
@click.option("--by", help="The trainer's name (default: your login).")
@pass_cli
@explained
def learn(cli: CliContext, *, measure: bool, by: str | None) -> None:
    """Write accepted lessons to nlu/data/learned.yml (never one that is an example of
    another intent), keep nlu/domain.yml in step, and validate."""
    written = learn_accepted(cli.settings, by=reviewer(by))
    if not measure:
        echo("next: `tandem nlu train`; then `tandem nlu review --effect`")
        return
    if written:
        from bot.commands.nlu import train_now  # noqa: PLC0415 - nlu imports this module

        train_now(cli)
    show_effect(cli.settings, read_lessons(cli.settings, LessonStatus.LEARNED))
