"""Shared fixtures: where the real PostgreSQL and Redis servers are.

The suite never skips a backend: when a server is unreachable the tests that need it fail
with a message that says which URL was tried and which variable points elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.background import BackgroundCommand, stop_all

REPO = Path(__file__).resolve().parents[1]

POSTGRES_URL_VARIABLE = "TANDEM_TEST_POSTGRES_URL"
REDIS_URL_VARIABLE = "TANDEM_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """An async SQLAlchemy URL of a PostgreSQL database the tests may create databases in."""
    return os.environ.get(
        POSTGRES_URL_VARIABLE, "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a Redis server; tests use their own key prefix and remove their keys."""
    return os.environ.get(REDIS_URL_VARIABLE, "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def shipped_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the shipped NLU data, once per session (about 15 s), with its
    examples' vectors beside it (3 s of CPU with MiniLM) for the services of the tests."""
    from tests.support.rasa import train_shipped_model  # noqa: PLC0415 - only Rasa tests pay

    return train_shipped_model(tmp_path_factory.mktemp("shipped-model"))


# Fixtures whose `tandem` command starts with the session, to run beside the other tests
# (tests/support/background.py); a test asking for one waits for its result.
EARLY_COMMANDS = {"policy_train_check": ("policy", "train", "--check")}


def _early_commands_of(item: pytest.Item) -> set[str]:
    if not isinstance(item, pytest.Function):
        return set()
    return EARLY_COMMANDS.keys() & set(item.fixturenames)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault suite's modules (minutes each) run first, so that under pytest-xdist they
    do not end the run on one worker while the other idles; the tests that wait for an
    early command run last: it has had the whole run."""
    items.sort(  # stable: the rest keep their order
        key=lambda item: (bool(_early_commands_of(item)), item.get_closest_marker("faults") is None)
    )


def _run_folder(config: pytest.Config) -> Path:
    """The folder this test run's processes share: pytest's base folder, of which each
    pytest-xdist worker has a subfolder (``popen-gw0``, ...)."""
    base: Path = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]  # as xdist does
    return base.parent if hasattr(config, "workerinput") else base


@pytest.fixture(scope="session", autouse=True)
def _early_commands(request: pytest.FixtureRequest) -> dict[str, BackgroundCommand]:
    """Starts the early commands that the collected tests ask for, none otherwise; once per
    run, however many workers run it (tests/support/background.py)."""
    wanted = set().union(*(_early_commands_of(item) for item in request.session.items))
    folder = _run_folder(request.config) / "early-commands"
    return {
        name: BackgroundCommand.start_once(
            [sys.executable, "-m", "bot", *arguments], folder=folder / name, cwd=REPO
        )
        for name, arguments in EARLY_COMMANDS.items()
        if name in wanted
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's end (the controller's, under xdist): stop what the tests left running."""
    if not hasattr(session.config, "workerinput"):
        stop_all(_run_folder(session.config) / "early-commands")


@pytest.fixture(scope="session")
def policy_train_check(_early_commands: dict[str, BackgroundCommand]) -> BackgroundCommand:
    """`tandem policy train --check`, running since the session started."""
    return _early_commands["policy_train_check"]


PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test talks to 127.0.0.1 only; slack_sdk honours HTTP(S)_PROXY and ignores
    NO_PROXY, so a proxy in the environment would swallow the simulators' traffic."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
