"""Settings: operators' choices from ``config/tandem.yml``; secrets and deployment values from
the environment (and a ``.env`` file when present).

Everything is validated once, at start-up. A bad value raises :class:`ConfigError` whose lines
each name one setting and what is expected; a secret's value is never echoed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints
from urllib.parse import unquote, urlsplit

import yaml
from dotenv import dotenv_values
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.agent_settings import HoursSection, SlaSection
from bot.errors import ConfigError
from bot.route_settings import RouteSection, routing
from handoff.errors import UnsupportedDatabase
from handoff.policy import FrustrationConfig, PolicyConfig
from handoff.privacy import (
    BUILT_IN,
    Masker,
    Pattern,
    PrivacyConfigError,
    Scanner,
    build_scanner,
)
from handoff.routing import Routes
from handoff.state.base import DEFAULT_LOCK_TIMEOUT
from handoff.storage.engine import parse_url
from nlu.encoders import DEFAULT_ENCODER, TUNINGS, EncoderName, Tuning

DEFAULT_CONFIG_PATH = Path("config/tandem.yml")
CONFIG_PATH_VARIABLE = "TANDEM_CONFIG"

# Secrets: validated for shape, never shown in an error, a log line or `tandem config show`.
SECRET_NAMES = frozenset(
    {
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "RASA_TOKEN",
        "DATABASE_URL",  # may carry a password
        "REDIS_URL",  # may carry a password
    }
)

PositiveSeconds = Annotated[float, Field(gt=0)]
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


class Environment(BaseSettings):
    """Secrets and deployment-specific values, read from environment variables and ``.env``."""

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_ignore_empty=True, frozen=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    telegram_webhook_url: AnyHttpUrl | None = None
    telegram_webhook_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")
    slack_agent_channel: str | None = None
    tandem_http_host: str = "127.0.0.1"
    tandem_http_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    rasa_url: AnyHttpUrl | None = None
    rasa_token: SecretStr | None = None
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[\w-]{20,}", value.get_secret_value()):
            raise ValueError("expected a token from @BotFather, shaped like 123456789:AAE...")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[\w-]{1,256}", value.get_secret_value()):
            raise ValueError("expected 1-256 characters: letters, digits, _ and -")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_is_https(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        # Plain http only on this machine: a local stand-in of Telegram (the simulator
        # behind ``tandem bench load --workers``); Telegram itself refuses it.
        if value is not None and value.scheme != "https" and value.host not in _LOOPBACK:
            raise ValueError(
                "expected an https:// URL (Telegram only calls https webhooks; "
                "http:// only on 127.0.0.1 or localhost)"
            )
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return _require_prefix(value, "xoxb-", "a bot token starting with xoxb-")

    @field_validator("slack_app_token")
    @classmethod
    def _slack_app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return _require_prefix(value, "xapp-", "an app-level token starting with xapp-")

    @field_validator("slack_agent_channel")
    @classmethod
    def _channel_shape(cls, value: str | None) -> str | None:
        # An ID, not a name: Slack's events name channels by ID, and resolving a name would
        # need two more scopes.
        if value is not None and not re.fullmatch(r"[CG][A-Z0-9]{6,}", value):
            raise ValueError(
                "expected a channel ID such as C0123456789 (channel details > About), not a name"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        return SecretStr(normalize_database_url(value.get_secret_value()))

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value


def _require_prefix(value: SecretStr | None, prefix: str, what: str) -> SecretStr | None:
    if value is not None and not value.get_secret_value().startswith(prefix):
        raise ValueError(f"expected {what}")
    return value


def normalize_database_url(raw: str) -> str:
    """Accept the usual spellings of SQLite and PostgreSQL URLs; use the async drivers.
    The storage adapter's parser reads it (:func:`handoff.storage.engine.parse_url`)."""
    try:
        url = parse_url(raw, any_driver=True)
    except UnsupportedDatabase as exc:
        raise ValueError(str(exc)) from None
    return url.render_as_string(hide_password=False)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RasaEnvironmentConfig(_Section):
    path: Path | None = None
    python: str | None = None


class RasaServerConfig(_Section):
    startup_timeout: PositiveSeconds = 180.0
    restart_delay_max: PositiveSeconds = 30.0
    # How often a new NLU model is looked for: the models folder's pointer (managed Rasa)
    # or RASA_URL's /status (the embedding model then follows it).
    model_check_interval: PositiveSeconds = 2.0


class NluConfig(_Section):
    project_dir: Path = Path("nlu")
    models_dir: Path | None = None
    keep_models: int = Field(default=5, ge=1)
    min_examples_per_intent: int = Field(default=10, ge=1)
    parse_timeout: PositiveSeconds = 3.0
    # Sentence embeddings beside Rasa (nlu.semantic): re-rank its intents and measure how
    # close a message comes to the training examples (policy.min_example_similarity).
    embeddings: bool = True
    # Which sentence encoder (nlu.encoders): minilm, wordllama or minilm+wordllama.
    encoder: EncoderName = DEFAULT_ENCODER
    # Rasa's share of the combined ranking; the embedding classifier has the rest. None:
    # the value set for the encoder (nlu.encoders.TUNINGS).
    rasa_weight: float | None = Field(default=None, ge=0, le=1)

    @property
    def tuning(self) -> Tuning:
        """The encoder's tuned values, with ``rasa_weight`` where the operator set it."""
        tuned = TUNINGS[self.encoder]
        if self.rasa_weight is None:
            return tuned
        return replace(tuned, rasa_weight=self.rasa_weight)

    environment: RasaEnvironmentConfig = RasaEnvironmentConfig()
    server: RasaServerConfig = RasaServerConfig()


class StateConfig(_Section):
    key_prefix: str = "tandem"
    lock_timeout: PositiveSeconds = DEFAULT_LOCK_TIMEOUT

    @field_validator("key_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.-]{1,64}", value):
            raise ValueError("expected 1-64 letters, digits, '.', '_' or '-'")
        return value


def _section_from_dataclass(cls: type[Any]) -> type[BaseModel]:
    """A settings section mirroring a frozen dataclass of the core: same names, same
    defaults (one source of truth), unknown keys refused; nested dataclasses recurse."""
    hints = get_type_hints(cls)
    fields: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        annotation = hints[spec.name]
        if dataclasses.is_dataclass(annotation):
            nested = _section_from_dataclass(annotation)  # type: ignore[arg-type]
            fields[spec.name] = (nested, Field(default_factory=nested))
            continue
        fields[spec.name] = (annotation, _default_of(spec))
    model: type[BaseModel] = create_model(f"{cls.__name__}Section", __base__=_Section, **fields)
    return model


def _default_of(spec: dataclasses.Field[Any]) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    raise TypeError(f"{spec.name} has no default; a settings section needs one")


PolicySection = _section_from_dataclass(PolicyConfig)


def policy_config(section: BaseModel) -> PolicyConfig:
    """The core's :class:`PolicyConfig` from its validated settings section."""
    values = section.model_dump()
    values["frustration"] = FrustrationConfig(**values["frustration"])
    return PolicyConfig(**values)


class ConversationSection(_Section):
    responses_file: Path = Path("config/responses.yml")
    # What Tandem says to agents in Slack (notes, private lines, status).
    agents_file: Path = Path("config/agents.yml")
    # Transcript lines on an agent's handoff card.
    transcript_lines: int = Field(default=12, ge=1, le=50)
    # Seconds between looks for stored messages that never reached the other side.
    redelivery_interval: PositiveSeconds = 30.0
    # A customer whose message has waited this long (the database or Redis is away) is told,
    # once, that it is kept and will be answered.
    outage_notice_after: PositiveSeconds = 20.0
    # A customer waiting this long for a person gets one update with choices.
    wait_update_after: PositiveSeconds = 300.0


APPROVER = re.compile(r"[SUW][A-Z0-9]{2,}|@[a-z0-9][a-z0-9._-]{0,79}")


class AgentsSection(_Section):
    note_prefix: str = Field(default="note:", min_length=1)
    sla: SlaSection = SlaSection()
    hours: HoursSection = HoursSection()
    # Handoffs to team channels by intent, reason or language; the first match wins, the
    # rest go to SLACK_AGENT_CHANNEL.
    routes: tuple[RouteSection, ...] = ()
    # Who may send drafts on human-only topics (handoff.approvals): Slack user group ids
    # (S...), user group handles (@name) or user ids (U...). Empty: no such drafts.
    approvers: tuple[str, ...] = ()

    @field_validator("approvers")
    @classmethod
    def _approver_shapes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for target in value:
            if not APPROVER.fullmatch(target):
                raise ValueError(
                    f"{target!r} is not a Slack user group id (S0123456789), user group "
                    "handle (@support-leads) or user id (U0123456789)"
                )
        return value

    def routing(self) -> Routes:
        return routing(self.routes)

    @model_validator(mode="after")
    def _routes_build(self) -> AgentsSection:
        routing(self.routes)
        return self


class TelegramLimitsSection(_Section):
    """Pacing of the bot's messages under Telegram's flood limits; null lifts one."""

    # Telegram's own limits: about one message a second in a chat, 30 a second overall.
    per_chat_per_second: float | None = Field(default=1.0, gt=0)
    per_bot_per_second: float | None = Field(default=30.0, gt=0)

    @property
    def per_chat_interval(self) -> float:
        """Seconds between two messages in one chat (0: not paced)."""
        return 0.0 if self.per_chat_per_second is None else 1.0 / self.per_chat_per_second

    @property
    def overall_per_second(self) -> float:
        return math.inf if self.per_bot_per_second is None else self.per_bot_per_second


class TelegramSection(_Section):
    limits: TelegramLimitsSection = TelegramLimitsSection()
    # Seconds an agent's reply waits in silence when Telegram answers 429; a longer wait
    # defers it and tells the agent. Other messages wait up to the 60 s retry budget.
    defer_after: float = Field(default=10.0, ge=0, le=60)


class SlackPacingSection(_Section):
    """Tandem's posts per agent channel, under Slack's limit (about one a second)."""

    per_second: float = Field(default=1.0, gt=0, le=100)
    burst: int = Field(default=1, ge=1, le=100)
    # A customer's message whose turn is at most this near waits for it; a later turn is
    # kept for the thread, and what the customer writes meanwhile joins the same post.
    wait_up_to: float = Field(default=0.25, ge=0, le=60)


class SlackSection(_Section):
    # null: no pacing (a Slack that allows more, or the simulator without its limit).
    pacing: SlackPacingSection | None = SlackPacingSection()


class PrivacyPatternSection(_Section):
    """An operator's kind of personal data (an order or account number, say)."""

    kind: str
    regex: str
    checksum: str | None = None


class PrivacySection(_Section):
    # Which of Tandem's own kinds of personal data to find and mask.
    kinds: tuple[str, ...] = BUILT_IN
    # Phone numbers written without a country code are read as numbers of this region.
    default_region: str = "US"
    # Operators' own kinds: a regex and optionally a python-stdnum checksum name.
    patterns: tuple[PrivacyPatternSection, ...] = ()
    # What the NLU and Slack receive: "masked" (typed placeholders) or "original".
    nlu: Literal["masked", "original"] = "masked"
    slack: Literal["masked", "original"] = "masked"
    # Days after which message texts are removed (null: kept); counts and times stay.
    retention_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _scanner_builds(self) -> PrivacySection:
        try:
            privacy_scanner(self)
        except PrivacyConfigError as exc:
            raise PydanticCustomError("privacy", "{message}", {"message": str(exc)}) from exc
        return self


def privacy_scanner(section: PrivacySection) -> Scanner:
    """The core's scanner for the validated ``privacy`` section."""
    return build_scanner(
        kinds=section.kinds,
        region=section.default_region,
        patterns=[
            Pattern(kind=p.kind, regex=p.regex, checksum=p.checksum) for p in section.patterns
        ],
    )


def personal_data_mask(settings: Settings) -> Callable[[str], str]:
    """What the log filter masks texts with (the log is always masked)."""
    return Masker(privacy_scanner(settings.config.privacy)).text


class ServiceConfig(_Section):
    """The contents of ``config/tandem.yml``."""

    data_dir: Path = Path(".tandem")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    nlu: NluConfig = NluConfig()
    state: StateConfig = StateConfig()
    conversation: ConversationSection = ConversationSection()
    agents: AgentsSection = AgentsSection()
    telegram: TelegramSection = TelegramSection()
    slack: SlackSection = SlackSection()
    policy: PolicySection = Field(default_factory=PolicySection)  # type: ignore[valid-type]
    privacy: PrivacySection = PrivacySection()

    @model_validator(mode="after")
    def _policy_is_consistent(self) -> ServiceConfig:
        # The core checks ranges and relations (e.g. weights within 0..1) when built.
        try:
            policy_config(self.policy)
        except ValueError as exc:
            raise PydanticCustomError("policy", "policy: {message}", {"message": str(exc)}) from exc
        return self


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the composition root needs, validated, with relative paths resolved."""

    root: Path
    config_path: Path | None
    env: Environment
    config: ServiceConfig

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the project root (the folder holding config/)."""
        return (self.root / value.expanduser()).resolve()

    @property
    def data_dir(self) -> Path:
        return self.path(self.config.data_dir)

    @property
    def nlu_dir(self) -> Path:
        return self.path(self.config.nlu.project_dir)

    @property
    def models_dir(self) -> Path:
        configured = self.config.nlu.models_dir
        return self.path(configured) if configured else self.data_dir / "models"

    @property
    def database_url(self) -> str:
        if self.env.database_url is not None:
            return self.env.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir / 'tandem.db'}"

    @property
    def redis_url(self) -> str | None:
        return self.env.redis_url.get_secret_value() if self.env.redis_url else None

    def secret_values(self) -> list[str]:
        """Every secret in force, for the log filter that masks them."""
        values = []
        for name in SECRET_NAMES:
            secret = getattr(self.env, name.lower())
            if secret is not None:
                values.append(secret.get_secret_value())
        for url in (self.database_url, self.redis_url):
            password = _password_in(url)
            if password:
                values.append(password)
        return values


def _password_in(url: str | None) -> str | None:
    """The password in a database or Redis URL, as the server gets it (decoded)."""
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def load_settings(
    config_path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read and validate every setting, or raise :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    explicit = config_path or _path_from(environ.get(CONFIG_PATH_VARIABLE))
    path = explicit or DEFAULT_CONFIG_PATH
    if not path.is_file():
        if explicit is not None:
            raise ConfigError([f"{path}: config file not found ({CONFIG_PATH_VARIABLE}/--config)"])
        # No config file: the embedded defaults, relative to the working directory.
        return Settings(
            root=Path.cwd(),
            config_path=None,
            env=_load_environment(Path.cwd()),
            config=ServiceConfig(),
        )
    path = path.resolve()
    root = path.parent.parent
    # Report the file's mistakes and the environment's together: one round of fixes.
    lines: list[str] = []
    config = env = None
    try:
        config = _load_config_file(path)
    except ConfigError as exc:
        lines += exc.lines
    try:
        env = _load_environment(root)
    except ConfigError as exc:
        lines += exc.lines
    if config is None or env is None:
        raise ConfigError(lines)
    return Settings(root=root, config_path=path, env=env, config=config)


def _path_from(value: str | None) -> Path | None:
    return Path(value) if value else None


# --- the environment --------------------------------------------------------------------


def _load_environment(root: Path) -> Environment:
    env_file = root / ".env"
    lines = _unknown_dotenv_keys(env_file) if env_file.is_file() else []
    try:
        environment = Environment(_env_file=env_file if env_file.is_file() else None)
    except ValidationError as exc:
        lines += [_environment_error_line(error) for error in exc.errors()]
        raise ConfigError(lines) from None
    lines += _cross_checks(environment)
    if lines:
        raise ConfigError(lines)
    return environment


def _environment_error_line(error: Mapping[str, Any]) -> str:
    name = str(error["loc"][0]).upper()
    shown = "" if name in SECRET_NAMES else f" (got {error['input']!r})"
    return f"{name}: {_expected(error)}{shown}"


def _unknown_dotenv_keys(env_file: Path) -> list[str]:
    """A misspelt name in .env would be silently ignored; say so instead."""
    known = [name.upper() for name in Environment.model_fields]
    ours = ("TELEGRAM_", "SLACK_", "TANDEM_", "RASA_", "DATABASE_", "REDIS_")
    lines = []
    for key in dotenv_values(env_file):
        upper = key.upper()
        if upper.startswith(ours) and upper not in known and upper != CONFIG_PATH_VARIABLE:
            lines.append(f"{env_file.name}: {key}: unknown setting{_did_you_mean(upper, known)}")
    return lines


def _cross_checks(env: Environment) -> list[str]:
    lines = []
    if env.telegram_webhook_url is not None and env.telegram_webhook_secret is None:
        lines.append(
            "TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set "
            "(1-256 characters: letters, digits, _ and -)"
        )
    if env.slack_bot_token is not None:
        if env.slack_agent_channel is None:
            lines.append(
                "SLACK_AGENT_CHANNEL: required when SLACK_BOT_TOKEN is set "
                "(the channel ID where agents get handoff threads, e.g. C0123456789)"
            )
        if env.slack_app_token is None and env.slack_signing_secret is None:
            lines.append(
                "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: one is required when SLACK_BOT_TOKEN "
                "is set (Socket Mode or HTTP mode)"
            )
    return lines


# --- the operators' YAML file -----------------------------------------------------------


def _load_config_file(path: Path) -> ServiceConfig:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read the config file ({exc})"]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise ConfigError([f"{path}:{line}: not valid YAML: {exc.problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: expected a mapping of settings at the top level"])
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [_config_error_line(path, node, error) for error in exc.errors()]
        ) from None


def _config_error_line(path: Path, node: yaml.Node | None, error: Mapping[str, Any]) -> str:
    loc = tuple(str(part) for part in error["loc"])
    if error["type"] == "policy":
        # The core named the setting at the start of its message: point at its line.
        message = str(error["ctx"]["message"])
        name, _, expected = message.partition(": ")
        known = _known_keys()
        for candidate in (f"policy.{name}", f"policy.frustration.{name}"):
            if candidate in known:
                return f"{path}:{_line_of(node, candidate.split('.'))}: {candidate}: {expected}"
        return f"{path}:{_line_of(node, ('policy',))}: policy: {message}"
    dotted = ".".join(loc)
    line = _line_of(node, loc)
    if error["type"] == "privacy":  # the core named the setting at the start of its message
        message = str(error["ctx"]["message"])
        line = _line_of(node, ("privacy", message.partition(":")[0]))
        return f"{path}:{line}: privacy.{message}"
    if error["type"] == "extra_forbidden":
        return f"{path}:{line}: {dotted}: unknown setting{_did_you_mean(dotted, _known_keys())}"
    return f"{path}:{line}: {dotted}: {_expected(error)} (got {error['input']!r})"


def _line_of(node: yaml.Node | None, loc: Iterable[str]) -> int:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key, value in node.value:
            if key.value == part:
                # An unknown key is reported at the key itself; a bad value at the value.
                node, line = value, key.start_mark.line + 1
                break
        else:
            break
    return line


def _known_keys(model: type[BaseModel] = ServiceConfig, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        dotted = prefix + name
        keys.append(dotted)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _known_keys(annotation, dotted + ".")
    return keys


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


_EXPECTED_BY_TYPE = {
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "bool_parsing": "expected true or false",
    "missing": "required",
    "url_parsing": "expected a URL such as https://example.com",
    "url_scheme": "expected an http:// or https:// URL",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
}


def _expected(error: Mapping[str, Any]) -> str:
    """Pydantic's message, phrased as what the setting expects."""
    kind = str(error["type"])
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    context = error.get("ctx") or {}
    bounds = {
        "greater_than": "a number greater than {gt}",
        "greater_than_equal": "a number of at least {ge}",
        "less_than": "a number less than {lt}",
        "less_than_equal": "a number of at most {le}",
    }
    if kind in bounds:
        return "expected " + bounds[kind].format(**context)
    message = str(error["msg"]).removeprefix("Value error, ")
    return re.sub(r"^Input should be ", "expected ", message)
