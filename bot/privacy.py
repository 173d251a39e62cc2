"""Personal data, wired: the decorators of the NLU and agents' desk ports that mask what
they receive, the reveal and erase handlers behind Slack's buttons, the /forget wrapper of
the engine, and the retention period's clean-up. Part of the composition root
(:mod:`bot.app`), kept apart so the core's wiring reads on its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.adapters.slack import SlackAdapter
from bot.settings import Settings, privacy_scanner
from handoff.agent_texts import AgentTexts
from handoff.clock import utc_now
from handoff.conversations import Conversations
from handoff.errors import HandoffError
from handoff.intake import CustomerHandler
from handoff.lease import RETENTION, Lease, SoleLease
from handoff.ports import AgentDesk
from handoff.privacy import Masker
from handoff.privacy.desk import MaskingDesk
from handoff.privacy.forget import Erasures, ForgetRequests
from handoff.privacy.nlu import MaskingNlu
from handoff.privacy.reveal import Revealer
from handoff.privacy.rights import CustomerRights
from handoff.responses import Responses
from handoff.stopping import pause
from handoff.storage import Database
from handoff.storage.privacy_queries import PrivacyStore
from nlu.parsing import NluParser

logger = logging.getLogger(__name__)

EXPIRY_INTERVAL = 3600.0  # seconds between looks for texts past the retention period

# One made-up value of each built-in kind, masked once at start (see warm_up).
_WARM_UP_TEXT = (
    "call +1 202 555 0143 or 202 555 0143, card 4111 1111 1111 1111, "
    "IBAN DE89 3704 0044 0532 0130 00, mail someone@example.com"
)


class PrivacyWiring:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        conversations: Conversations,
        slack: SlackAdapter,
        responses: Responses,
        texts: AgentTexts,
    ) -> None:
        self._config = settings.config.privacy
        self._files = settings.data_dir / "quarantine"
        self._transcript_lines = settings.config.conversation.transcript_lines
        self._masker = Masker(privacy_scanner(self._config))
        self._store = PrivacyStore(database=database)
        self._conversations = conversations
        self._slack = slack
        self._responses = responses
        self._texts = texts
        self.rights = CustomerRights(
            records=self._store, log=self._store, cleaner=slack, state=conversations.state
        )

    def warm_up(self) -> None:
        """Mask a text of every built-in kind once, before the service serves: the first
        phone, card or IBAN otherwise loads phonenumbers' region metadata, python-stdnum's
        IBAN registry and their regexes on the event loop, 7.5-10.7 ms in a customer's
        first such message (about 0.1-0.4 ms each after)."""
        self._masker.mask(_WARM_UP_TEXT)

    @property
    def masker(self) -> Masker:
        return self._masker

    def desk(self) -> AgentDesk:
        """What the handoff desk posts through: Slack, masked unless configured not to."""
        if self._config.slack != "masked":
            return self._slack
        return MaskingDesk(
            inner=self._slack, masker=self._masker, texts=self._texts, offers=self._slack
        )

    def nlu(self, nlu: NluParser) -> NluParser:
        """What the engine parses with: masked unless configured not to."""
        return MaskingNlu(inner=nlu, masker=self._masker) if self._config.nlu == "masked" else nlu

    def customers(self, engine: CustomerHandler) -> CustomerHandler:
        """The engine, with customers' /forget taken care of first."""
        return ForgetRequests(
            inner=engine,
            conversations=self._conversations,
            log=self._store,
            desk=self._slack,
            responses=self._responses,
            texts=self._texts,
        )

    def revealer(self) -> Revealer:
        # The undecorated desk: the private line to the owning agent carries the values.
        return Revealer(
            store=self._conversations.repository,
            log=self._store,
            desk=self._slack,
            masker=self._masker,
            texts=self._texts,
            transcript_lines=self._transcript_lines,
        )

    def erasures(self) -> Erasures:
        return Erasures(
            rights=self.rights,
            conversations=self._conversations,
            desk=self._slack,
            responses=self._responses,
            texts=self._texts,
        )

    async def expire_forever(
        self,
        *,
        interval: float = EXPIRY_INTERVAL,
        lease: Lease | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Remove texts past the retention period now, then every ``interval`` seconds
        (nothing when no period is set); with several workers, the one holding the lease.
        Ends between rounds once ``stop`` is set."""
        days = self._config.retention_days
        if days is None:
            return
        lease, stop = lease or SoleLease(), stop or asyncio.Event()
        while not stop.is_set():
            try:
                if await lease.take(RETENTION, ttl=2 * interval + 60):
                    await self.rights.expire(days=days)
            except HandoffError as exc:  # storage away: the next round catches up
                logger.warning("retention: could not remove old texts now: %s", exc)
            expire_files(self._files, before=utc_now() - timedelta(days=days))
            await pause(stop, interval)


def expire_files(directory: Path, *, before: datetime) -> list[Path]:
    """Remove the files in ``directory`` (the Telegram quarantine: raw updates Tandem could
    not take, which hold customers' texts) last written before ``before``. A file still
    being appended to is newer, and stays until it too is quiet for the whole period."""
    removed = []
    for path in sorted(directory.glob("*")) if directory.is_dir() else []:
        try:
            if path.is_file() and path.stat().st_mtime < before.timestamp():
                path.unlink()
                removed.append(path)
        except OSError as exc:
            logger.warning("retention: could not remove %s: %s", path, exc)
    if removed:
        logger.info("retention: %d file(s) older than the period removed", len(removed))
    return removed
