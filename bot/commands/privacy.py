"""``tandem privacy``: what Tandem holds about a customer, written out or erased, and the
retention period applied now. Each is recorded in the privacy audit trail."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click

from bot.commands.common import CliContext, echo, explained, fail, pass_cli, run_async
from bot.privacy import expire_files
from bot.settings import Settings
from handoff.privacy.audit import PrivacyEvent
from handoff.privacy.rights import CustomerRights, ThreadCleaner
from handoff.responses import load_responses
from handoff.state import live_state_from_url
from handoff.storage import Database, utc_now
from handoff.storage.privacy_queries import PrivacyStore

T = TypeVar("T")
_CUSTOMER = click.option(
    "--customer",
    "reference",
    required=True,
    metavar="ID",
    help="Tandem's customer id (42), or the chat (telegram:123456).",
)


@click.group(short_help="A customer's data: export, erase; the retention period.")
def privacy() -> None:
    """Personal data: export or erase what Tandem holds about a customer, and remove texts
    past the retention period (privacy.retention_days)."""


@privacy.command(short_help="Write everything Tandem holds about a customer as JSON.")
@_CUSTOMER
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The file to write (default: standard output).",
)
@pass_cli
@explained
def export(cli: CliContext, reference: str, out: Path | None) -> None:
    """The customer, their conversations with every message (and where it stands: received,
    pending, delivered, failed, retracted or not sent, explained in delivery_states), their
    handoffs, and the privacy events about them, as one JSON document."""
    settings = cli.settings
    words = load_responses(settings.path(settings.config.conversation.responses_file))
    exported = run_async(
        _with_rights(settings, lambda rights: rights.export(reference, words=words))
    )
    text = json.dumps(exported, indent=2, ensure_ascii=False)
    if out is None:
        echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    echo(f"customer {reference}: written to {out}")


@privacy.command(short_help="Remove everything Tandem holds about a customer.")
@_CUSTOMER
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--service-stopped",
    is_flag=True,
    help="The service is not running (needed for a customer with an open conversation when "
    "the live state is in the service's memory, i.e. without REDIS_URL).",
)
@pass_cli
@explained
def erase(cli: CliContext, reference: str, yes: bool, service_stopped: bool) -> None:
    """The customer's conversations, messages and handoffs, and Tandem's posts and files
    in their Slack threads (when Slack is configured). An audit entry without content
    remains."""
    if cli.settings.redis_url is None and not service_stopped:
        open_now = run_async(_with_store(cli.settings, reference, _has_open_conversation))
        if open_now:
            fail(
                [
                    f"customer {reference} has an open conversation, whose live state is in "
                    "the running service's memory: erase with the Erase button under their "
                    "/forget request in Slack, or stop the service and add --service-stopped"
                ],
                code=1,
            )
    if not yes:
        if not sys.stdin.isatty():
            fail(["erase: add --yes to erase without a terminal to confirm in"], code=2)
        click.confirm(f"Erase customer {reference}? This cannot be undone", abort=True)
    report = run_async(
        _with_rights(cli.settings, lambda rights: rights.erase(reference), slack=True)
    )
    erased = report.erased
    echo(
        f"customer {report.customer_id} erased: {erased.conversations} conversation(s), "
        f"{erased.messages} message(s), {erased.handoffs} handoff(s); "
        f"{report.posts_deleted} Slack post(s) deleted"
    )
    for failure in report.threads_failed:
        echo(f"not deleted from Slack: {failure}")


@privacy.command(short_help="Remove texts older than privacy.retention_days now.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Instead of the setting.")
@pass_cli
@explained
def expire(cli: CliContext, days: int | None) -> None:
    """What the service does every hour when privacy.retention_days is set."""
    days = days or cli.settings.config.privacy.retention_days
    if days is None:
        fail(["privacy.retention_days is not set (null): give --days N"], code=2)
    kept = days
    expired = run_async(_with_rights(cli.settings, lambda rights: rights.expire(days=kept)))
    files = expire_files(
        cli.settings.data_dir / "quarantine", before=utc_now() - timedelta(days=days)
    )
    echo(
        f"texts older than {days} days removed: {expired.messages} message(s), "
        f"{expired.handoffs} card(s), {len(files)} file(s)"
    )


@privacy.command(short_help="The privacy audit trail: reveals, exports, erasures, /forget.")
@click.option(
    "--customer", "reference", default=None, metavar="ID", help="Only about this customer."
)
@pass_cli
@explained
def audit(cli: CliContext, reference: str | None) -> None:
    """Who revealed, exported or erased personal data, and when; never the data itself."""

    async def read(rights: CustomerRights) -> list[PrivacyEvent]:
        return await rights.audit(reference)

    for event in run_async(_with_rights(cli.settings, read)):
        who = f"{event.actor_name} ({event.actor_id})" if event.actor_id else "operator/Tandem"
        where = [
            f"customer {event.customer_id}" if event.customer_id is not None else "",
            f"handoff #{event.handoff_id}" if event.handoff_id is not None else "",
            f"messages {', '.join(map(str, event.message_ids))}" if event.message_ids else "",
            f"{event.count} row(s)" if event.count is not None else "",
        ]
        detail = "; ".join(part for part in where if part)
        echo(f"{event.at.isoformat(timespec='seconds')}  {event.kind.value:<16} {who}  {detail}")


async def _has_open_conversation(store: PrivacyStore, reference: str) -> bool:
    customer = await store.find_customer(reference)
    return customer is not None and await store.has_open_conversation(customer.id)


async def _with_store(
    settings: Settings, reference: str, work: Callable[[PrivacyStore, str], Awaitable[T]]
) -> T:
    database = Database.from_url(settings.database_url)
    try:
        await database.upgrade()
        return await work(PrivacyStore(database=database), reference)
    finally:
        await database.dispose()


async def _with_rights(
    settings: Settings,
    work: Callable[[CustomerRights], Awaitable[T]],
    *,
    slack: bool = False,
) -> T:
    database = Database.from_url(settings.database_url)
    state = (
        live_state_from_url(settings.redis_url, key_prefix=settings.config.state.key_prefix)
        if settings.redis_url
        else None
    )
    try:
        await database.upgrade()
        store = PrivacyStore(database=database)
        cleaner = await _cleaner(settings) if slack else None
        rights = CustomerRights(records=store, log=store, cleaner=cleaner, state=state)
        return await work(rights)
    finally:
        if state is not None:
            await state.close()
        await database.dispose()


async def _cleaner(settings: Settings) -> ThreadCleaner | None:
    env = settings.env
    if env.slack_bot_token is None:
        echo("note: SLACK_BOT_TOKEN is not set, so Tandem's posts in Slack are not deleted")
        return None
    from bot.adapters.slack.reveal import connect_cleaner  # noqa: PLC0415 - Slack only here

    return await connect_cleaner(
        bot_token=env.slack_bot_token.get_secret_value(), api_url=str(env.slack_api_url)
    )
