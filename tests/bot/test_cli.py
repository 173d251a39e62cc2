"""The ``tandem`` command as a person runs it: a real process, its exit code and output.

Every mistake an operator or trainer can make must come back as one clear line on stderr,
never a traceback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from bot.cli import COMMANDS, cli
from tests.bot.test_settings import CHAT_VARIABLES, GOOD_TELEGRAM_TOKEN

REPO = Path(__file__).resolve().parents[2]
CHAT_SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET",
    "SLACK_AGENT_CHANNEL",
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose config points at a copy of the shipped NLU files."""
    shutil.copytree(REPO / "nlu" / "data", tmp_path / "nlu" / "data")
    shutil.copy(REPO / "nlu" / "config.yml", tmp_path / "nlu" / "config.yml")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "tandem.yml").write_text("data_dir: var\n", encoding="utf-8")
    return tmp_path


def tandem(project: Path, *args: str, feed: str | None = None, **env: str) -> Ran:
    """Run ``tandem ARGS`` with ``feed`` as its input (nothing: /dev/null, not a terminal)."""
    environment = {k: v for k, v in os.environ.items() if k not in CHAT_VARIABLES}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL if feed is None else None,
        input=feed,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Ran(done.returncode, done.stdout, done.stderr)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_help_lists_every_command_with_one_line(project: Path) -> None:
    ran = tandem(project, "--help")
    assert ran.code == 0
    for command in ("run", "config", "db", "nlu"):
        assert any(line.strip().startswith(command + " ") for line in ran.out.splitlines())
    nlu = tandem(project, "nlu", "--help")
    for command in ("setup", "train", "validate", "test", "parse"):
        assert any(line.strip().startswith(command + " ") for line in nlu.out.splitlines())


def test_the_help_imports_no_command_and_no_sdk(project: Path) -> None:
    listing = (
        "import sys; from bot.cli import cli; cli(['--help'], standalone_mode=False); "
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", listing], cwd=project, capture_output=True, text=True, check=True
    )
    assert "Commands:" in done.stdout
    imported = set(done.stdout.splitlines()[-1].split())
    packages = {name.split(".")[0] for name in imported}
    heavy = {"telegram", "slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "pydantic"}
    assert packages & heavy == set()
    assert {"bot.commands.run", "bot.settings", "bot.app"} & imported == set()


def test_the_help_shows_each_command_with_its_own_short_help() -> None:
    context = click.Context(cli)
    for name, (_, line) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert command.get_short_help_str(limit=200) == line


def test_run_without_chat_tokens_or_a_terminal_says_what_is_missing(project: Path) -> None:
    for feed in (None, ":help\n"):  # /dev/null, then a pipe: neither is a terminal
        ran = tandem(project, "run", feed=feed)
        assert ran.code == 2, ran.out + ran.err
        assert ran.err_lines[0] == (
            "tandem: no Telegram or Slack credentials are set; the service needs:"
        )
        for name in CHAT_SETTINGS:
            assert any(line.startswith(f"tandem: {name}") for line in ran.err_lines), name
        assert ran.err_lines[-1].startswith(
            "tandem: without them `tandem run` starts the offline sandbox, but only on a terminal"
        )
        assert "`tandem sandbox` starts it anyway" in ran.err_lines[-1]
        assert "sandbox" not in ran.out  # it did not start


def test_a_bad_configuration_value_is_one_line(project: Path) -> None:
    (project / "config" / "tandem.yml").write_text("nlu:\n  parse_timeout: soon\n")
    ran = tandem(project, "run")
    assert ran.code == 2
    assert ran.err_lines == [
        f"tandem: {project / 'config' / 'tandem.yml'}:2: nlu.parse_timeout: "
        "expected a number (got 'soon')"
    ]


def test_a_bad_environment_value_is_one_line(project: Path) -> None:
    ran = tandem(project, "config", "check", TANDEM_HTTP_PORT="eighty")
    assert ran.code == 2
    assert ran.err_lines == ["tandem: TANDEM_HTTP_PORT: expected a whole number (got 'eighty')"]


def test_config_check_shows_secrets_only_as_set(project: Path) -> None:
    ran = tandem(project, "config", "check", TELEGRAM_BOT_TOKEN=GOOD_TELEGRAM_TOKEN)
    assert ran.code == 0
    assert "TELEGRAM_BOT_TOKEN: set" in ran.out
    assert GOOD_TELEGRAM_TOKEN not in ran.out + ran.err
    assert ran.out.strip().endswith("configuration OK")


def test_run_with_some_chat_credentials_says_what_is_missing(project: Path) -> None:
    ran = tandem(project, "run", TELEGRAM_BOT_TOKEN=GOOD_TELEGRAM_TOKEN)
    assert ran.code == 2
    assert ran.err_lines[0] == (
        "tandem: the service needs Telegram and Slack credentials, and these are missing:"
    )
    text = ran.err
    for name in ("SLACK_BOT_TOKEN", "SLACK_AGENT_CHANNEL", "SLACK_APP_TOKEN"):
        assert name in text
    assert "TELEGRAM_BOT_TOKEN" not in text


def test_a_broken_yaml_line_in_the_nlu_data_names_file_and_line(project: Path) -> None:
    broken = project / "nlu" / "data" / "billing.yml"
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "  examples: : |")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ran = tandem(project, "nlu", "validate")
    assert ran.code == 1
    assert "nlu/data/billing.yml:4: error:" in ran.out
    assert ran.err_lines == ["tandem: 1 error(s) in the NLU data"]
    train = tandem(project, "nlu", "train")
    assert train.code == 1
    assert "nlu/data/billing.yml:4: error:" in train.out
    assert train.err_lines == ["tandem: 1 error(s) in the NLU data; nothing was trained"]


def test_a_missing_python_for_rasa_is_one_line(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (project / "config" / "tandem.yml").write_text(
        f"data_dir: var\nnlu:\n  environment:\n    path: {tmp_path / 'rasa-env'}\n"
    )
    ran = tandem(project, "nlu", "setup", PATH=str(empty), PYENV_ROOT=str(empty))
    assert ran.code == 1
    [line] = ran.err_lines
    assert line.startswith("tandem: no Python 3.10 (or 3.9/3.8) found, which Rasa 3.6 needs")
    explicit = tandem(project, "nlu", "setup", "--python", "/nowhere/python3.10")
    assert explicit.err_lines == ["tandem: --python /nowhere/python3.10: no such interpreter"]


def test_an_unreachable_rasa_url_is_one_line(project: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    ran = tandem(project, "nlu", "parse", "hello", RASA_URL=url)
    assert ran.code == 1
    assert ran.err_lines == [
        f"tandem: RASA_URL: could not reach Rasa at {url} (connection refused or host unreachable)"
    ]


def test_db_upgrade_creates_the_sqlite_database(project: Path) -> None:
    ran = tandem(project, "db", "upgrade")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("database is at revision ")
    assert (project / "var" / "tandem.db").is_file()
    again = tandem(project, "db", "upgrade")
    assert again.out == ran.out


def test_db_upgrade_against_an_unreachable_database_is_one_line(project: Path) -> None:
    url = f"postgresql://nobody:hunter2secret@127.0.0.1:{closed_port()}/nothing"
    ran = tandem(project, "db", "upgrade", DATABASE_URL=url)
    assert ran.code == 1
    [line] = ran.err_lines
    assert line.startswith("tandem: ")
    assert "hunter2secret" not in ran.out + ran.err


@pytest.mark.rasa
def test_nlu_shell_parses_line_by_line_until_an_empty_line(
    project: Path, shipped_model: Path, tmp_path: Path
) -> None:
    from tests.support.rasa_server import rasa_server  # noqa: PLC0415 - only Rasa tests pay

    with rasa_server(shipped_model, log=tmp_path / "rasa.log") as rasa:
        feed = "I forgot my password\nwhere is ORD-48213\n\nnever read\n"
        ran = tandem(project, "nlu", "shell", feed=feed, RASA_URL=rasa.url, RASA_TOKEN=rasa.token)
    assert ran.code == 0, ran.err
    answers = [line.strip() for line in ran.out.splitlines() if line.startswith("  ")]
    assert len(answers) == 2
    assert answers[0].startswith("reset_password ")
    assert answers[1].startswith("order_status ")
    assert "[order_id='ORD-48213']" in answers[1]


def test_config_check_shows_the_approvers_and_whether_they_have_anything_to_approve(
    project: Path,
) -> None:
    (project / "config" / "tandem.yml").write_text(
        "data_dir: var\nagents:\n  approvers: ['@support-leads', U0AGENT2]\n", encoding="utf-8"
    )
    shipped = (REPO / "config" / "responses.yml").read_text(encoding="utf-8")
    (project / "config" / "responses.yml").write_text(shipped, encoding="utf-8")
    ran = tandem(project, "config", "check")
    assert ran.code == 0, ran.err
    assert "approvers: @support-leads, U0AGENT2" in ran.out
    assert "approvers: user groups not checked (SLACK_BOT_TOKEN is not set)" in ran.out
    assert "nothing to approve" not in ran.out

    start = shipped.index("  refund_request:")
    without = shipped[:start] + shipped[shipped.index("system:", start) :]
    (project / "config" / "responses.yml").write_text(without, encoding="utf-8")
    ran = tandem(project, "config", "check")
    assert ran.code == 0, ran.err
    assert "no human-only topic has a reply in the replies file" in ran.out

    (project / "config" / "tandem.yml").write_text(
        "data_dir: var\nagents:\n  approvers: [support-leads]\n", encoding="utf-8"
    )
    ran = tandem(project, "config", "check")
    assert ran.code == 2
    assert "'support-leads' is not a Slack user group id" in ran.err
