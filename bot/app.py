"""The composition root: the one place that turns settings into concrete objects."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.adapters.slack import SlackAdapter
from bot.adapters.telegram import RetryPolicy, SendLimits, TelegramAdapter
from bot.errors import MissingChatSettings
from bot.http import HealthReport, HttpServer
from bot.learning import LearningWiring
from bot.meaning import frustration_encoder
from bot.metrics import Metrics
from bot.privacy import PrivacyWiring
from bot.scale import polling_lease, slack_pacing, telegram_limiter
from bot.settings import Settings, policy_config
from handoff.agent_texts import AgentTexts, load_agent_texts
from handoff.conversations import Conversations
from handoff.desk import HandoffDesk
from handoff.engine import ConversationEngine
from handoff.errors import HandoffError, StateError
from handoff.intake import Handlers, Intake
from handoff.lease import REDELIVERY, give_up_all, leased
from handoff.policy import FrustrationDetector
from handoff.ports import AgentEventHandler, InboundHandler
from handoff.privacy.rights import CustomerRights
from handoff.redelivery import Alarm, redeliver_forever
from handoff.responses import load_responses, menu_commands
from handoff.sla import Elapsed, with_skipped
from handoff.sla_watch import SlaWatch
from handoff.state import LiveState, lane_order_from_url, lease_from_url, live_state_from_url
from handoff.stopping import pause, stop_between_rounds
from handoff.storage import Database, Repository, StorageUnavailable
from handoff.storage.journal import SqliteJournal
from nlu.client import NluParser, RasaClient
from nlu.encoders import sentence_encoder
from nlu.environment import RasaEnvironment, default_environment_path
from nlu.errors import NluError, NluUnavailable
from nlu.models import ModelStore
from nlu.refit import EmbeddingRefitter, follow_status, local_model
from nlu.semantic import ExampleModel, SemanticParser
from nlu.server import ManagedRasaServer
from nlu.snapshots import examples_of

logger = logging.getLogger(__name__)

# Seconds a stopping worker goes on handling what it journaled (a load balancer has taken
# it out already); what is left then waits in its journal for its restart.
DRAIN_WITHIN = 15.0


def worker_identity(journal: Path) -> str:
    """Who holds this worker's lane tickets: the same across its restarts on the same
    journal (its kept tickets are its own again), apart from any other worker's."""
    where = f"{socket.gethostname()}:{journal.resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


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
            model = None
            try:
                status = await client.status()
            except NluUnavailable as exc:
                if require:
                    raise NluUnavailable(f"RASA_URL: {exc}") from exc
                logger.warning("RASA_URL: %s; customers go to a person until it answers", exc)
            else:
                logger.info("using the Rasa server at RASA_URL (model %s)", status.model_file)
                model = local_model(status.model_file, settings.models_dir)
            nlu = await asyncio.to_thread(semantic_nlu, settings, client, model=model)
            async with _following_status(settings, client, nlu, model):
                yield nlu
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
        model_check_interval=settings.config.nlu.server.model_check_interval,
    )
    async with server:
        loaded = server.loaded_model
        nlu = await asyncio.to_thread(semantic_nlu, settings, server, model=loaded)
        if isinstance(nlu, SemanticParser):
            refitter = EmbeddingRefitter(
                parser=nlu, data_dir=settings.nlu_dir / "data", followed=loaded
            )
            server.on_model_loaded(refitter.follow)
            if server.loaded_model is not None and server.loaded_model != loaded:
                await refitter.follow(server.loaded_model)  # loaded while this one was fitted
        yield nlu


@contextlib.asynccontextmanager
async def _following_status(
    settings: Settings, client: RasaClient, nlu: NluParser, model: Path | None
) -> AsyncIterator[None]:
    """While open, the embedding model follows the model the Rasa at RASA_URL serves."""
    if not isinstance(nlu, SemanticParser):
        yield
        return
    refitter = EmbeddingRefitter(parser=nlu, data_dir=settings.nlu_dir / "data", followed=model)
    interval = settings.config.nlu.server.model_check_interval
    task = asyncio.create_task(
        follow_status(client, refitter, models_dir=settings.models_dir, interval=interval),
        name="rasa-url-model-follower",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def semantic_nlu(settings: Settings, rasa: NluParser, *, model: Path | None = None) -> NluParser:
    """Rasa's parses re-ranked by sentence embeddings fitted on the examples ``model`` (the
    NLU model Rasa serves) was trained on, each with its nearest-example similarity (unless
    ``nlu.embeddings`` is off). The caller refits it when Rasa loads another model.

    Loading the encoder and fitting took 1.7-5.4 s in ``tandem bench load`` runs: callers
    on the event loop run this in a thread (the loop also runs the Rasa server's watch, and
    the simulators in the sandbox)."""
    config = settings.config.nlu
    if not config.embeddings:
        return rasa
    fitted = semantic_model(settings, model)
    if fitted is None:
        return rasa
    return SemanticParser(inner=rasa, model=fitted, rasa_weight=config.tuning.rasa_weight)


def semantic_model(settings: Settings, model: Path | None = None) -> ExampleModel | None:
    """The embedding model fitted on the examples ``model`` was trained on (its snapshot;
    ``nlu/data`` for an older model, or without one); None, with a warning, where a
    deployment has neither."""
    started = time.perf_counter()
    data = settings.nlu_dir / "data"
    examples = examples_of(model, data)
    if len({example.intent for example in examples}) < 2:
        logger.warning(
            "no training examples of two intents or more in %s: the NLU runs on Rasa alone, "
            "without embeddings (policy.min_scope_score does not apply)",
            data,
        )
        return None
    config = settings.config.nlu
    encoder = sentence_encoder(config.encoder, store_dir=settings.models_dir)
    fitted = ExampleModel(
        encoder=encoder, examples=examples, regularisation=config.tuning.regularisation
    )
    logger.info(
        "embedding model fitted on %d examples of %d intents in %.2f s",
        len(examples),
        len(fitted.intents),
        time.perf_counter() - started,
    )
    return fitted


# --- the service ----------------------------------------------------------------------


def no_chat_settings(settings: Settings) -> bool:
    """True when not a single chat credential is set: a fresh checkout, a trial run."""
    env = settings.env
    return not any(
        (
            env.telegram_bot_token,
            env.slack_bot_token,
            env.slack_app_token,
            env.slack_signing_secret,
            env.slack_agent_channel,
        )
    )


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
    """Storage, live state, NLU, the conversation core and both chat adapters, started and
    stopped together.

    ``settle_heap``: the process runs this one service until it ends (``tandem run``), so
    what the start built is frozen out of the garbage collector's scans (see
    :meth:`_ready_to_serve`). Off where one process starts many services (the sandbox's
    restarts, the tests): a freeze there would keep the earlier services' garbage cycles
    for good."""

    def __init__(
        self, settings: Settings, *, skipped: Elapsed | None = None, settle_heap: bool = False
    ) -> None:
        self._settings = settings
        # Time the timers count on top of the clock's (the sandbox's :later).
        self._skipped = skipped
        self._settle_heap = settle_heap
        self._stack = contextlib.AsyncExitStack()
        self.database: Database | None = None
        self.state: LiveState | None = None
        self.nlu: NluParser | None = None
        self.http: HttpServer | None = None
        self.engine: ConversationEngine | None = None
        self.intake: Intake | None = None
        self.telegram: TelegramAdapter | None = None
        self.journal: SqliteJournal | None = None
        self.rights: CustomerRights | None = None
        self.sla: SlaWatch | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise

    async def _start(self) -> None:  # noqa: PLR0915 - the composition root, in one order
        settings, config = self._settings, self._settings.config
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        responses = load_responses(settings.path(config.conversation.responses_file))
        texts = load_agent_texts(settings.path(config.conversation.agents_file))

        self.database = Database.from_url(settings.database_url)
        self._stack.push_async_callback(self.database.dispose)
        state = live_state_from_url(
            settings.redis_url,
            key_prefix=config.state.key_prefix,
            lock_timeout=config.state.lock_timeout,
        )
        self._stack.push_async_callback(state.close)
        self.state = state
        # Once here: a wrong URL or a failed migration stops the start. An outage does not:
        # the service comes up, journals what arrives and handles it once storage is back.
        storage_ready = await self._storage_ready()

        self.nlu = await self._stack.enter_async_context(open_nlu(settings, require=False))
        self.http, metrics = self._endpoints()

        # Built in one direction: the intake (the journal alone), the adapters that hand it
        # every event, then the core that talks through the adapters.
        self.journal = SqliteJournal.open(settings.data_dir / "intake")
        self._stack.push_async_callback(self.journal.close)
        # Several workers: each lane's order across them (a ticket per event in Redis), each
        # worker's tickets held under its journal's identity, alive from here to the close
        # (after the drain).
        order = lane_order_from_url(
            settings.redis_url,
            key_prefix=config.state.key_prefix,
            holder=worker_identity(settings.data_dir / "intake"),
        )
        self._stack.push_async_callback(order.close)
        await order.start()
        self.intake = Intake(
            journal=self.journal,
            responses=responses,
            texts=texts,
            notice_after=config.conversation.outage_notice_after,
            order=order,
        )
        telegram = build_telegram(
            settings,
            handler=metrics.replies.arrivals(self.intake),
            routes=self.http,
            commands=menu_commands(responses.system("help").text),
        )
        self.telegram = telegram
        slack = build_slack(settings, handler=self.intake, http=self.http)
        repository = Repository(database=self.database)
        conversations = Conversations(
            repository=repository, state=state, channel=metrics.replies.channel(telegram)
        )
        # Personal data: masked before the NLU and Slack (decorating their ports), revealed
        # only to the owning agent, erased on request (see bot.privacy).
        privacy = PrivacyWiring(
            settings=settings,
            database=self.database,
            conversations=conversations,
            slack=slack,
            responses=responses,
            texts=texts,
        )
        self.rights = privacy.rights
        # Agents teach the bot from the thread: offers under each card (see bot.learning).
        desk = (
            learning := LearningWiring(
                settings=settings,
                database=self.database,
                conversations=conversations,
                slack=slack,
                desk=privacy.desk(),
                masker=privacy.masker,
                texts=texts,
                nlu=privacy.nlu(self.nlu),
                responses=responses,
                replies=self.intake,
            )
        ).desk
        alarm = Alarm()
        # Periodic work of one worker at a time (several workers on one Redis).
        lease = lease_from_url(settings.redis_url, key_prefix=config.state.key_prefix)
        self._stack.push_async_callback(lease.close)
        self._stack.push_async_callback(give_up_all, lease)
        handoffs = HandoffDesk(
            conversations=conversations,
            desk=desk,
            responses=responses,
            texts=texts,
            transcript_lines=config.conversation.transcript_lines,
            wake=alarm.ring_in,
            memo=self.journal,
            routes=config.agents.routing(),
            hours=config.agents.hours.core(),
        )
        learning.teacher.cards = handoffs  # a lesson stored shows on the handoff's card
        self.engine = ConversationEngine(
            conversations=conversations,
            desk=handoffs,
            nlu=privacy.nlu(metrics.nlu(self.nlu)),
            responses=responses,
            policy=policy_config(config.policy),
            # In a thread: loading MiniLM and the detector's check of its vectors' size
            # (an encode) would hold up the event loop.
            detector=await asyncio.to_thread(_frustration_detector, settings),
        )
        # Update-to-reply: from the update's hand-over (above) to the reply sent for it.
        customers = metrics.replies.customers(privacy.customers(self.engine))
        handlers = Handlers(customers=customers, agents=handoffs, channel=telegram, desk=desk)
        if storage_ready:
            await self._restore()
        replayed = await self.intake.load()
        if replayed:
            logger.info("%d event(s) from the intake journal to handle first", replayed)

        self._ready_to_serve(privacy)
        await self.http.start()
        self._stack.push_async_callback(self.http.stop)
        # Stopped in reverse: Slack first, so agents' replies still being handled reach the
        # customer through a Telegram adapter that is still up.
        await telegram.start()
        self._stack.push_async_callback(telegram.stop)
        await slack.start(
            resolve_handoff_number=handoffs.thread_of,
            reveal=privacy.revealer(),
            erase=privacy.erasures(),
            teach=learning.teacher,
            send_draft=learning.drafts,
        )
        self._stack.push_async_callback(slack.stop)
        # A stop, in this order (the stack unwinds backwards): the periodic loops end
        # between rounds; Telegram takes no more updates (the balancer's next worker gets
        # them); the intake drains for a bounded time, then stops its lanes, while both
        # adapters can still send; then the adapters, and only then the journal, so that
        # nothing works on a closed journal. What was journaled and not handled is
        # replayed at the next start.
        self._stack.push_async_callback(functools.partial(self.intake.stop, grace=DRAIN_WITHIN))
        self._stack.push_async_callback(telegram.stop_receiving)

        async def handle_and_redeliver(stop: asyncio.Event) -> None:
            if not storage_ready and not await self._until_storage_is_back(stop):
                return  # stopped before storage came back: the journal keeps everything
            assert self.intake is not None
            self.intake.run(handlers)
            # Once now, then every interval; stopped first, while both adapters are up.
            await redeliver_forever(
                leased(
                    lambda older_than: handoffs.redeliver_pending(older_than=older_than, stop=stop),
                    lease=lease,
                    name=REDELIVERY,
                    ttl=2 * config.conversation.redelivery_interval + 5,
                ),
                interval=config.conversation.redelivery_interval,
                alarm=alarm,
                due=lambda: handoffs.redeliver_due(stop=stop),
                stop=stop,
            )

        self._periodic(handle_and_redeliver, name="intake and redelivery")
        self._periodic(
            lambda stop: privacy.expire_forever(lease=lease, stop=stop), name="retention"
        )
        self._watch_sla(repository, slack, texts=texts, handoffs=handoffs)

    def _ready_to_serve(self, privacy: PrivacyWiring) -> None:
        """Everything is built and nothing is served yet: costs that would otherwise fall
        on customers, on the event loop (so on every customer at once), are paid now."""
        privacy.warm_up()
        if self._settle_heap:
            # A full (generation 2) collection scans every object the collector tracks:
            # about 260,000 after a start (the NLU's models, catalogues, ONNX Runtime's
            # wrappers, SQLAlchemy's metadata), 120-420 ms with the event loop blocked.
            # They live as long as the process: collected once now, then frozen, they
            # leave every later scan.
            gc.collect()
            gc.freeze()

    def _periodic(
        self, loop: Callable[[asyncio.Event], Coroutine[Any, Any, None]], *, name: str
    ) -> None:
        """Run ``loop`` until the service stops; it is asked to stop between its rounds
        (cancelled only if a round overruns, see handoff.stopping), before anything it
        uses is stopped."""
        stop = asyncio.Event()
        task = asyncio.create_task(loop(stop), name=name)
        self._stack.push_async_callback(stop_between_rounds, task, stop)

    def _watch_sla(
        self, store: Repository, slack: SlackAdapter, *, texts: AgentTexts, handoffs: HandoffDesk
    ) -> None:
        """The SLA ladder: unclaimed and unanswered handoffs re-pinged and escalated."""
        sla = self._settings.config.agents.sla
        self.sla = SlaWatch(
            store=store,
            alerts=slack.ladder(ping=sla.ping, escalation_channel=sla.escalation_channel),
            texts=texts,
            settings=sla.core(
                wait_update_after=self._settings.config.conversation.wait_update_after
            ),
            redraw=handoffs.redraw_card,
            wait_update=handoffs.wait_update,
            elapsed=with_skipped(  # out of business hours the clocks pause
                self._settings.config.agents.hours.core().open_seconds, self._skipped
            ),
        )
        watch = self.sla.watch_forever
        self._periodic(
            lambda stop: watch(interval=sla.check_interval, stop=stop), name="SLA ladder"
        )

    def _endpoints(self) -> tuple[HttpServer, Metrics]:
        """The HTTP server with /healthz, /readyz and /metrics."""
        assert self.database is not None
        env = self._settings.env
        http = HttpServer(
            host=env.tandem_http_host,
            port=env.tandem_http_port,
            health=self.health,
            ready=self.readiness,
        )
        metrics = Metrics(database=self.database)
        http.add_route("GET", "/metrics", metrics.serve)
        return http, metrics

    async def _storage_ready(self) -> bool:
        """Migrate the database and reach the live state; False while either is away."""
        assert self.database is not None
        assert self.state is not None
        try:
            await self.database.upgrade()
            await self.state.ping()
        except (StorageUnavailable, StateError) as exc:
            logger.warning("storage is unavailable (%s); events are journaled meanwhile", exc)
            return False
        logger.info(
            "database ready (%s); live state ready (%s)",
            _database_kind(self._settings.database_url),
            "Redis" if self._settings.redis_url else "in-process",
        )
        return True

    async def _restore(self) -> None:
        assert self.engine is not None
        restored = await self.engine.restore_live_state()
        logger.info("%d active conversation(s) restored from the database", restored)

    async def _until_storage_is_back(self, stop: asyncio.Event, *, longest: float = 10.0) -> bool:
        """True once storage is back and the live state restored; False if the service
        stops first."""
        delay = 0.5
        while not await pause(stop, delay):
            delay = min(delay * 2, longest)
            if await self._storage_ready():
                try:
                    await self._restore()
                except (StorageUnavailable, StateError) as exc:
                    logger.warning("storage went away again: %s", exc)
                    continue
                return True
        return False

    async def stop(self) -> None:
        await self._stack.aclose()

    async def health(self) -> HealthReport:
        checks: dict[str, str] = {}
        healthy, degraded = True, False
        if self.telegram is not None:
            polling = self.telegram.health()
            checks["telegram"] = (
                "ok" if polling.status == "ok" else f"{polling.status}: "
            ) + polling.detail
            healthy = healthy and polling.status != "down"
            degraded = degraded or polling.status == "degraded"
        healthy = await self._storage_checks(checks) and healthy
        if self.intake is not None and self.journal is not None:
            try:
                failed = await self.journal.failed_count()
            except HandoffError as exc:
                checks["intake"], healthy = f"failing: {exc}", False
            else:
                checks["intake"] = (
                    f"ok: {self.intake.backlog} waiting"
                    if not failed
                    else f"degraded: {failed} event(s) failed for good (see the log)"
                )
                degraded = degraded or bool(failed)
        degraded = not await self._nlu_check(checks) or degraded
        return HealthReport(healthy=healthy, checks=checks, degraded=degraded)

    async def readiness(self) -> HealthReport:
        """For load balancers: ready while the database and the live state answer. Rasa is
        reported, not required: without it customers are handed to a person, which a
        worker can still do."""
        checks: dict[str, str] = {}
        ready = await self._storage_checks(checks)
        degraded = not await self._nlu_check(checks)
        return HealthReport(healthy=ready, checks=checks, degraded=degraded)

    async def _storage_checks(self, checks: dict[str, str]) -> bool:
        healthy = True
        probes: list[tuple[str, Callable[[], Awaitable[object]] | None]] = [
            ("database", self.database.current_revision if self.database else None),
            ("state", self.state.ping if self.state else None),
        ]
        for name, probe in probes:
            try:
                if probe is not None:
                    await probe()
                checks[name] = "ok"
            except HandoffError as exc:
                checks[name], healthy = f"failing: {exc}", False
        return healthy

    async def _nlu_check(self, checks: dict[str, str]) -> bool:
        try:
            if self.nlu is not None:
                await self.nlu.parse("healthz")
            checks["nlu"] = "ok"
        except NluError as exc:
            # Degraded, not down: customers are handed to a person while NLU is away.
            checks["nlu"] = f"degraded: {exc}"
            return False
        return True


def _frustration_detector(settings: Settings) -> FrustrationDetector:
    return FrustrationDetector(
        policy_config(settings.config.policy).frustration, encoder=frustration_encoder()
    )


def build_telegram(
    settings: Settings,
    *,
    handler: InboundHandler,
    routes: HttpServer,
    commands: Sequence[tuple[str, str]] = (),
) -> TelegramAdapter:
    env, limits = settings.env, settings.config.telegram.limits
    defer_after = settings.config.telegram.defer_after
    assert env.telegram_bot_token is not None
    return TelegramAdapter(
        token=env.telegram_bot_token.get_secret_value(),
        api_url=str(env.telegram_api_url).rstrip("/"),
        handler=handler,
        webhook_url=str(env.telegram_webhook_url) if env.telegram_webhook_url else None,
        webhook_secret=(
            env.telegram_webhook_secret.get_secret_value() if env.telegram_webhook_secret else None
        ),
        routes=routes,
        quarantine_dir=settings.data_dir / "quarantine",
        # The journal makes handing an update over fast, so the next getUpdates (which
        # confirms the batch to Telegram) can wait until every update is recorded.
        confirm_after_handover=30.0,
        commands=commands,
        limits=SendLimits(
            per_chat_interval=limits.per_chat_interval,
            overall_per_second=limits.overall_per_second,
        ),
        limiter=telegram_limiter(settings),
        polling_lease=polling_lease(settings),
        retry=RetryPolicy(defer_after=defer_after),
    )


def build_slack(
    settings: Settings,
    *,
    handler: AgentEventHandler,
    http: HttpServer,
) -> SlackAdapter:
    env = settings.env

    assert env.slack_bot_token is not None
    assert env.slack_agent_channel is not None
    return SlackAdapter(
        bot_token=env.slack_bot_token.get_secret_value(),
        api_url=str(env.slack_api_url),
        agent_channel=env.slack_agent_channel,
        app_token=env.slack_app_token.get_secret_value() if env.slack_app_token else None,
        signing_secret=(
            env.slack_signing_secret.get_secret_value() if env.slack_signing_secret else None
        ),
        http=http,
        handler=handler,
        note_prefix=settings.config.agents.note_prefix,
        route_channels=settings.config.agents.routing().channels,
        approvers=settings.config.agents.approvers,
        **slack_pacing(settings),
    )


def _database_kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


async def run_service(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM."""
    missing = missing_chat_settings(settings)
    if missing:
        raise MissingChatSettings(
            ["the service needs Telegram and Slack credentials, and these are missing:", *missing]
        )
    service = Service(settings, settle_heap=True)
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
