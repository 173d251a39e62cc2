"""Shared fixtures: where the real PostgreSQL and Redis servers are.

The suite never skips a backend: when a server is unreachable the tests that need it fail
with a message that says which URL was tried and which variable points elsewhere.
"""

from __future__ import annotations

import os

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
