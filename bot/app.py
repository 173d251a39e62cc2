"""The composition root: the one place that turns settings into concrete objects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import MissingChatSettings
from bot.http import HealthReport, HttpServer
from bot.settings import Settings
from handoff.errors import HandoffError
from handoff.state import LiveState, live_state_from_url
from handoff.storage import Database
from nlu.client import NluParser, RasaClient
from nlu.environment import RasaEnvironment, default_environment_path
from nlu.errors import NluError, NluUnavailable
from nlu.models import ModelStore
from nlu.server import ManagedRasaServer

logger = logging.getLogger(__name__)


# --- NLU ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NluParts:
    """The trainers' files and the machinery that trains and serves them."""

    environment: RasaEnvironment
    store: ModelStore
    config_file: Path
    data_dir: Path
    test_data_dir: Path


def nlu_parts(settings: Settings) -> NluParts:
    nlu = settings.config.nlu
    environment_path = nlu.environment.path
    return NluParts(
        environment=RasaEnvironment(
            settings.path(environment_path) if environment_path else default_environment_path()
        ),
        store=ModelStore(settings.models_dir, keep=nlu.keep_models),
        config_file=settings.nlu_dir / "config.yml",
        data_dir=settings.nlu_dir / "data",
        test_data_dir=settings.nlu_dir / "test_data",
    )


@contextlib.asynccontextmanager
async def open_nlu(settings: Settings, *, require: bool = True) -> AsyncIterator[NluParser]:
    """The NLU the engine talks to: the Rasa at RASA_URL, or a managed Rasa server.

    With ``require=False`` an unreachable RASA_URL is logged, not raised: the service runs
    on and hands customers to a person until Rasa answers.
    """
    timeout = settings.config.nlu.parse_timeout
    if settings.env.rasa_url is not None:
        token = settings.env.rasa_token.get_secret_value() if settings.env.rasa_token else None
        client = RasaClient(base_url=str(settings.env.rasa_url), token=token, timeout=timeout)
        try:
            try:
                status = await client.status()
            except NluUnavailable as exc:
                if require:
                    raise NluUnavailable(f"RASA_URL: {exc}") from exc
                logger.warning("RASA_URL: %s; customers go to a person until it answers", exc)
            else:
                logger.info("using the Rasa server at RASA_URL (model %s)", status.model_file)
            yield client
        finally:
            await client.aclose()
        return
    parts = nlu_parts(settings)
    server = ManagedRasaServer(
        environment=parts.environment,
        store=parts.store,
        startup_timeout=settings.config.nlu.server.startup_timeout,
        restart_delay_max=settings.config.nlu.server.restart_delay_max,
        parse_timeout=timeout,
    )
    async with server:
        yield server


# --- the service ----------------------------------------------------------------------


def missing_chat_settings(settings: Settings) -> list[str]:
    """What the real service needs from Telegram and Slack, and how to get it."""
    env = settings.env
    lines = []
    if env.telegram_bot_token is None:
        lines.append(
            "TELEGRAM_BOT_TOKEN is not set: in Telegram, talk to @BotFather, send /newbot, "
            "and put the token it gives you in .env"
        )
    if env.slack_bot_token is None:
        lines.append(
            "SLACK_BOT_TOKEN is not set: create the Slack app (README, 'Connecting Slack'), "
            "install it to your workspace and copy its xoxb- Bot User OAuth Token"
        )
    if env.slack_app_token is None and env.slack_signing_secret is None:
        lines.append(
            "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is not set: for Socket Mode create an "
            "app-level token (xapp-) with connections:write; for HTTP mode copy the app's "
            "Signing Secret"
        )
    if env.slack_agent_channel is None:
        lines.append(
            "SLACK_AGENT_CHANNEL is not set: the ID of the channel agents work in "
            "(channel details > About, e.g. C0123456789); invite the app to it"
        )
    return lines


class Service:
    """Storage, live state, NLU and the HTTP endpoints, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()
        self.database: Database | None = None
        self.state: LiveState | None = None
        self.nlu: NluParser | None = None
        self.http: HttpServer | None = None

    async def start(self) -> None:
        settings = self._settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.database = Database.from_url(settings.database_url)
            self._stack.push_async_callback(self.database.dispose)
            await self.database.upgrade()
            logger.info("database ready (%s)", _database_kind(settings.database_url))

            state = live_state_from_url(
                settings.redis_url,
                key_prefix=settings.config.state.key_prefix,
                lock_timeout=settings.config.state.lock_timeout,
            )
            self._stack.push_async_callback(state.close)
            await state.ping()
            self.state = state
            logger.info("live state ready (%s)", "Redis" if settings.redis_url else "in-process")

            self.nlu = await self._stack.enter_async_context(open_nlu(settings, require=False))

            self.http = HttpServer(
                host=settings.env.tandem_http_host,
                port=settings.env.tandem_http_port,
                health=self.health,
            )
            await self.http.start()
            self._stack.push_async_callback(self.http.stop)
        except BaseException:
            await self._stack.aclose()
            raise

    async def stop(self) -> None:
        await self._stack.aclose()

    async def health(self) -> HealthReport:
        checks: dict[str, str] = {}
        healthy = True
        try:
            if self.database is not None:
                await self.database.current_revision()
            checks["database"] = "ok"
        except HandoffError as exc:
            checks["database"], healthy = f"failing: {exc}", False
        try:
            if self.state is not None:
                await self.state.ping()
            checks["state"] = "ok"
        except HandoffError as exc:
            checks["state"], healthy = f"failing: {exc}", False
        try:
            if self.nlu is not None:
                await self.nlu.parse("healthz")
            checks["nlu"] = "ok"
        except NluError as exc:
            # Degraded, not down: customers are handed to a person while NLU is away.
            checks["nlu"] = f"degraded: {exc}"
        return HealthReport(healthy=healthy, checks=checks)


def _database_kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


async def run_service(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM."""
    missing = missing_chat_settings(settings)
    if missing:
        raise MissingChatSettings(
            ["the service needs Telegram and Slack credentials, and these are missing:", *missing]
        )
    service = Service(settings)
    await service.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    logger.info("Tandem is running; Ctrl-C stops it")
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        await service.stop()
