"""Fixtures of the handoff core's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handoff.storage import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database (the embedded default), migrated."""
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'tandem.db'}")
    await database.upgrade()
    yield database
    await database.dispose()
