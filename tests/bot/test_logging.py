"""Logging: secrets never reach a log line, and HTTP libraries do not log request URLs."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import httpx
import pytest
from aiohttp import web

from bot.logging import RedactSecrets, configure_logging
from handoff.log_context import conversation

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
RASA_TOKEN = "rasa-token-7f3a"
CHATTY = ("httpx", "httpcore", "telegram", "slack_bolt", "slack_sdk", "aiohttp.access")


class Recorder(logging.Handler):
    """Keeps every record it is given, fully formatted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)
        self.records.append(record)

    def messages(self, logger: str) -> list[str]:
        return [record.getMessage() for record in self.records if record.name == logger]


def redacting_logger(*secrets: str) -> tuple[logging.Logger, io.StringIO]:
    """A private logger whose only handler writes to a string, through the filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(f"tests.redact.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger, stream


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``configure_logging`` changes the process-wide set-up; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 for httpx to log requests to."""

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# --- RedactSecrets ----------------------------------------------------------------------


def test_secrets_in_arguments_are_masked() -> None:
    logger, stream = redacting_logger(TELEGRAM_TOKEN, RASA_TOKEN)

    logger.info(
        "GET %s then %s (%d tries)",
        f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe",
        f"http://rasa:5005/model/parse?token={RASA_TOKEN}",
        2,
    )

    assert stream.getvalue() == (
        "INFO GET https://api.telegram.org/bot***/getMe then "
        "http://rasa:5005/model/parse?token=*** (2 tries)\n"
    )


def test_secrets_in_the_message_itself_are_masked() -> None:
    logger, stream = redacting_logger(RASA_TOKEN)
    message = f"token={RASA_TOKEN} at 100%"

    logger.warning(message)

    assert stream.getvalue() == "WARNING token=*** at 100%\n"


def test_masked_message_with_a_percent_sign_after_formatting() -> None:
    logger, stream = redacting_logger(RASA_TOKEN)

    logger.info("%s is 100%% wrong, %s", RASA_TOKEN, "100%s")

    assert stream.getvalue() == "INFO *** is 100% wrong, 100%s\n"


def test_secrets_in_exception_text_are_masked() -> None:
    logger, stream = redacting_logger(TELEGRAM_TOKEN)

    try:
        raise RuntimeError(f"Unauthorized: bot{TELEGRAM_TOKEN} was revoked")
    except RuntimeError:
        logger.exception("polling failed")

    output = stream.getvalue()
    assert TELEGRAM_TOKEN not in output
    assert output.startswith("ERROR polling failed\nTraceback (most recent call last):")
    assert "RuntimeError: Unauthorized: bot*** was revoked" in output


def test_secrets_in_a_chained_exception_are_masked() -> None:
    logger, stream = redacting_logger(RASA_TOKEN)

    try:
        try:
            raise ValueError(f"bad query token={RASA_TOKEN}")
        except ValueError as exc:
            raise ConnectionError("Rasa is unreachable") from exc
    except ConnectionError:
        logger.exception("parse failed")

    output = stream.getvalue()
    assert RASA_TOKEN not in output
    assert "ValueError: bad query token=***" in output
    assert "ConnectionError: Rasa is unreachable" in output


def test_secrets_shorter_than_six_characters_are_ignored() -> None:
    logger, stream = redacting_logger("abc12", "", RASA_TOKEN)

    logger.info("user abc12 sent %s", RASA_TOKEN)

    assert stream.getvalue() == "INFO user abc12 sent ***\n"


def test_a_secret_containing_another_is_masked_whole() -> None:
    logger, stream = redacting_logger("s3cr3t-token", "s3cr3t-token-extended")

    logger.info("a=%s b=%s", "s3cr3t-token-extended", "s3cr3t-token")

    assert stream.getvalue() == "INFO a=*** b=***\n"


def test_records_without_secrets_pass_unchanged() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)

    assert RedactSecrets([RASA_TOKEN]).filter(record) is True
    assert (record.msg, record.args) == ("hello %s", ("world",))
    assert RedactSecrets([]).filter(record) is True
    assert record.getMessage() == "hello world"


# --- configure_logging ------------------------------------------------------------------


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_httpx_request_lines_are_not_logged(http_server: str, level: str) -> None:
    url = f"{http_server}/bot{TELEGRAM_TOKEN}/getMe"
    root = logging.getLogger()

    # First prove the request really logs its URL at INFO when nothing holds httpx back.
    control = Recorder()
    root.addHandler(control)
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    async with httpx.AsyncClient() as client:
        await client.get(url)
    root.removeHandler(control)
    assert any(TELEGRAM_TOKEN in message for message in control.messages("httpx"))

    configure_logging(level, secrets=[TELEGRAM_TOKEN])
    recorder = Recorder()
    root.addHandler(recorder)
    async with httpx.AsyncClient() as client:
        await client.get(url)
    logging.getLogger("httpx").warning("a warning still gets through")
    logging.getLogger("tandem.test").info("our own INFO lines still get through")

    assert logging.getLogger("httpx").level == logging.WARNING
    assert recorder.messages("httpx") == ["a warning still gets through"]
    assert recorder.messages("tandem.test") == ["our own INFO lines still get through"]


@pytest.mark.usefixtures("restore_logging")
def test_chatty_libraries_follow_a_stricter_level() -> None:
    configure_logging("ERROR")

    assert logging.getLogger().level == logging.ERROR
    for name in CHATTY:
        assert logging.getLogger(name).level == logging.ERROR


@pytest.mark.usefixtures("restore_logging")
def test_configured_output_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[RASA_TOKEN])
    configure_logging("INFO", secrets=[RASA_TOKEN])  # configuring again replaces, not adds

    logging.getLogger("tandem.test").info("calling Rasa with token %s", RASA_TOKEN)
    logging.getLogger("tandem.test").debug("below the level")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("INFO    tandem.test: calling Rasa with token ***")


def test_a_url_encoded_secret_is_masked_too() -> None:
    token = "123456789:AAEhBP0av28JjYYrzPo3pdGkXR4JBwM8xyz"
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "GET /file/bot%s/photo.jpg",
        ("123456789%3AAAEhBP0av28JjYYrzPo3pdGkXR4JBwM8xyz",),
        None,
    )
    RedactSecrets([token]).filter(record)
    assert record.getMessage() == "GET /file/bot***/photo.jpg"


# --- the line's format -------------------------------------------------------------------


def mask_emails(text: str) -> str:
    return text.replace("grace@example.com", "[email]")


def log_about_a_conversation(logger_name: str) -> None:
    token = conversation.set("chat:telegram:42")
    try:
        logger = logging.getLogger(logger_name)
        logger.info("relayed %s", "grace@example.com")
        try:
            raise ValueError(f"bad token {TELEGRAM_TOKEN} for grace@example.com")
        except ValueError:
            logger.exception("handling failed")
    finally:
        conversation.reset(token)
    logging.getLogger(logger_name).warning("outside any conversation")


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_time_level_conversation_and_event_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(
        "INFO", secrets=[TELEGRAM_TOKEN], personal_data=mask_emails, log_format="json"
    )
    log_about_a_conversation("tandem.json")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    relayed, failed, outside = lines
    assert relayed["event"] == "relayed [email]"
    assert relayed["level"] == "INFO"
    assert relayed["logger"] == "tandem.json"
    assert relayed["conversation"] == "chat:telegram:42"
    assert datetime.fromisoformat(relayed["time"]).tzinfo is not None
    assert "ValueError: bad token ***" in failed["exc_info"]
    assert "grace@example.com" not in failed["exc_info"]
    assert TELEGRAM_TOKEN not in json.dumps(lines)
    assert outside["conversation"] is None


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_are_readable_with_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TELEGRAM_TOKEN], personal_data=mask_emails)
    log_about_a_conversation("tandem.text")

    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    tandem\.text \[chat:telegram:42\]: "
        r"relayed \[email\]",
        first,
    )
    assert "grace@example.com" not in err
    assert TELEGRAM_TOKEN not in err
    assert "tandem.text: outside any conversation" in err
