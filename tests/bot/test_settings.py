"""Settings: defaults, the shipped file, and one clear line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import ServiceConfig, load_settings, normalize_database_url

REPO = Path(__file__).resolve().parents[2]
CHAT_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "SLACK_AGENT_CHANNEL",
    "TANDEM_HTTP_HOST",
    "TANDEM_HTTP_PORT",
    "RASA_URL",
    "RASA_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
    "TANDEM_CONFIG",
)
GOOD_TELEGRAM_TOKEN = "123456789:AAEhBP0av28JjYYrzPo3pdGkXR4JBwM8xyz"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test starts in an empty project folder with none of Tandem's variables set."""
    for name in CHAT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    return tmp_path


def write_config(root: Path, text: str) -> Path:
    path = root / "config" / "tandem.yml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(config: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    return caught.value.lines


def test_the_shipped_file_states_exactly_the_defaults() -> None:
    settings = load_settings(REPO / "config" / "tandem.yml")
    assert settings.config == ServiceConfig()
    assert settings.root == REPO


def test_without_a_config_file_the_embedded_defaults_apply(clean_environment: Path) -> None:
    settings = load_settings()
    assert settings.config_path is None
    assert settings.config == ServiceConfig()
    assert settings.database_url == (
        f"sqlite+aiosqlite:///{clean_environment.resolve() / '.tandem' / 'tandem.db'}"
    )
    assert settings.redis_url is None
    assert str(settings.env.telegram_api_url) == "https://api.telegram.org/"
    assert settings.env.tandem_http_port == 8080


def test_relative_paths_resolve_against_the_folder_holding_config(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(clean_environment, "data_dir: var/data\nnlu:\n  models_dir: m\n")
    monkeypatch.chdir("/")
    settings = load_settings(config)
    assert settings.data_dir == clean_environment.resolve() / "var" / "data"
    assert settings.models_dir == clean_environment.resolve() / "m"
    assert settings.nlu_dir == clean_environment.resolve() / "nlu"


def test_a_named_config_file_that_does_not_exist_is_one_line(clean_environment: Path) -> None:
    assert errors_of(clean_environment / "nope.yml") == [
        f"{clean_environment / 'nope.yml'}: config file not found (TANDEM_CONFIG/--config)"
    ]


def test_broken_yaml_names_the_line(clean_environment: Path) -> None:
    config = write_config(clean_environment, "log_level: INFO\nnlu: parse_timeout: 1\n")
    [line] = errors_of()
    assert line == f"{config.resolve()}:2: not valid YAML: mapping values are not allowed here"


def test_a_top_level_list_is_refused(clean_environment: Path) -> None:
    write_config(clean_environment, "- a\n- b\n")
    [line] = errors_of()
    assert line.endswith(":1: expected a mapping of settings at the top level")


def test_an_empty_file_means_defaults(clean_environment: Path) -> None:
    write_config(clean_environment, "# nothing set\n")
    assert load_settings().config == ServiceConfig()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("nlu:\n  parse_timeout: -1\n", ":2: nlu.parse_timeout: expected a number greater than 0"),
        ("nlu:\n  keep_models: 2.5\n", ":2: nlu.keep_models: expected a whole number (got 2.5)"),
        (
            "nlu:\n  min_exampels: 3\n",
            ":2: nlu.min_exampels: unknown setting (did you mean nlu.min_examples_per_intent?)",
        ),
        ("log_level: LOUD\n", ":1: log_level: expected 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("state:\n  key_prefix: a b\n", ":2: state.key_prefix: expected 1-64 letters"),
        ("state:\n\n  lock_timeout: soon\n", ":3: state.lock_timeout: expected a number"),
        ("nlu:\n  server:\n    startup_timeout: 0\n", ":3: nlu.server.startup_timeout"),
    ],
)
def test_each_bad_value_is_one_line_naming_the_setting(
    clean_environment: Path, yaml_text: str, expected: str
) -> None:
    write_config(clean_environment, yaml_text)
    [line] = errors_of()
    assert expected in line


def test_every_bad_setting_is_reported_at_once(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(clean_environment, "log_level: LOUD\nnlu:\n  keep_models: 0\n")
    monkeypatch.setenv("TANDEM_HTTP_PORT", "http")
    lines = errors_of()
    assert len(lines) == 3
    assert any("log_level" in line for line in lines)
    assert any("nlu.keep_models: expected a number of at least 1" in line for line in lines)
    assert "TANDEM_HTTP_PORT: expected a whole number (got 'http')" in lines


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TANDEM_HTTP_PORT", "70000", "TANDEM_HTTP_PORT: expected a number of at most 65535"),
        ("TANDEM_HTTP_PORT", "-1", "TANDEM_HTTP_PORT: expected a number of at least 0"),
        ("TELEGRAM_API_URL", "api.telegram", "TELEGRAM_API_URL: expected a URL"),
        ("SLACK_API_URL", "ftp://slack.com/api", "SLACK_API_URL: expected an http:// or https://"),
        ("RASA_URL", "localhost:5005", "RASA_URL: expected"),
        (
            "TELEGRAM_WEBHOOK_URL",
            "http://example.com/hook",
            "TELEGRAM_WEBHOOK_URL: expected an https:// URL",
        ),
        ("SLACK_AGENT_CHANNEL", "agents room", "SLACK_AGENT_CHANNEL: expected a channel ID"),
        ("SLACK_AGENT_CHANNEL", "#support", "SLACK_AGENT_CHANNEL: expected a channel ID"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: expected a redis://, rediss:// or unix:// URL"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL: expected a sqlite:// or postgresql:// URL"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: expected a URL such as sqlite:///"),
    ],
)
def test_each_bad_environment_value_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    [line] = errors_of()
    assert line.startswith(expected)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "my-secret-token-value"),
        ("SLACK_BOT_TOKEN", "xoxp-secret-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-secret-not-an-app-token"),
        ("TELEGRAM_WEBHOOK_SECRET", "secret with spaces!"),
    ],
)
def test_a_malformed_secret_is_named_but_never_shown(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    [line] = errors_of()
    assert line.startswith(f"{name}: expected")
    assert value not in line
    assert "got" not in line


def test_webhook_mode_needs_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram")
    [line] = errors_of()
    assert line.startswith("TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set")


def test_slack_needs_a_channel_and_a_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    lines = errors_of()
    assert lines[0].startswith("SLACK_AGENT_CHANNEL: required when SLACK_BOT_TOKEN is set")
    assert lines[1].startswith("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: one is required")


def test_a_complete_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", GOOD_TELEGRAM_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    monkeypatch.setenv("SLACK_AGENT_CHANNEL", "C0123456789")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    monkeypatch.setenv("DATABASE_URL", "postgresql://tandem:pw@db.internal/tandem")
    monkeypatch.setenv("REDIS_URL", "redis://:redispw@cache:6379/0")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://tandem:pw@db.internal/tandem"
    assert settings.redis_url == "redis://:redispw@cache:6379/0"
    assert str(settings.env.telegram_api_url) == "http://127.0.0.1:8081/"
    secrets = settings.secret_values()
    assert GOOD_TELEGRAM_TOKEN in secrets
    assert "pw" in secrets  # the database password; the log filter decides what to mask
    assert "redispw" in secrets


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("TANDEM_HTTP_PORT", "")
    settings = load_settings()
    assert settings.env.telegram_bot_token is None
    assert settings.env.tandem_http_port == 8080


def test_dotenv_is_read_and_the_environment_wins(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(clean_environment, "")
    (clean_environment / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={GOOD_TELEGRAM_TOKEN}\nTANDEM_HTTP_PORT=9000\n", encoding="utf-8"
    )
    monkeypatch.setenv("TANDEM_HTTP_PORT", "9100")
    settings = load_settings()
    assert settings.env.telegram_bot_token is not None
    assert settings.env.telegram_bot_token.get_secret_value() == GOOD_TELEGRAM_TOKEN
    assert settings.env.tandem_http_port == 9100


def test_a_misspelt_name_in_dotenv_is_reported(clean_environment: Path) -> None:
    write_config(clean_environment, "")
    (clean_environment / ".env").write_text("TELEGRAM_BOT_TOKN=1:abc\nOTHER_APP=1\n")
    [line] = errors_of()
    assert line == ".env: TELEGRAM_BOT_TOKN: unknown setting (did you mean TELEGRAM_BOT_TOKEN?)"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("sqlite:///data/t.db", "sqlite+aiosqlite:///data/t.db"),
        ("sqlite+aiosqlite:////abs/t.db", "sqlite+aiosqlite:////abs/t.db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
    ],
)
def test_database_urls_use_the_async_drivers(raw: str, normalized: str) -> None:
    assert normalize_database_url(raw) == normalized


def test_a_plain_http_webhook_is_accepted_on_this_machine_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A local stand-in of Telegram (the simulator behind `tandem bench load --workers`).
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "http://127.0.0.1:8443/telegram/webhook")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "local-secret")
    settings = load_settings(REPO / "config" / "tandem.yml")
    assert str(settings.env.telegram_webhook_url) == "http://127.0.0.1:8443/telegram/webhook"


def test_each_encoder_brings_the_rasa_weight_and_regularisation_set_for_it() -> None:
    from bot.settings import NluConfig  # noqa: PLC0415
    from nlu.encoders import TUNINGS  # noqa: PLC0415

    assert NluConfig().tuning == TUNINGS["minilm"]
    wordllama = NluConfig(encoder="wordllama").tuning
    assert (wordllama.rasa_weight, wordllama.regularisation) == (0.5, 10.0)
    chosen = NluConfig(encoder="wordllama", rasa_weight=0.3).tuning
    assert (chosen.rasa_weight, chosen.regularisation) == (0.3, 10.0)
