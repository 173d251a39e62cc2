"""Shared fixtures: where the real PostgreSQL and Redis servers are.

The suite never skips a backend: when a server is unreachable the tests that need it fail
with a message that says which URL was tried and which variable points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
    """A model trained on the shipped NLU data, once per session (about 15 s)."""
    from tests.support.rasa import train_shipped_model  # noqa: PLC0415 - only Rasa tests pay

    return train_shipped_model(tmp_path_factory.mktemp("shipped-model"))


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
