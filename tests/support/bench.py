"""What the benchmarks' end-to-end tests share: an operator's settings on the shipped model,
and the check that a run left nothing behind."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.settings import Settings, load_settings
from tests.support.rasa import store_with

REPO = Path(__file__).resolve().parents[2]


def bench_settings(shipped_model: Path, folder: Path) -> Settings:
    """An operator's settings in ``folder``, whose current model is ``shipped_model``."""
    models = store_with(shipped_model, folder / "models")
    config = folder / "config" / "tandem.yml"
    config.parent.mkdir()
    config.write_text(
        f"data_dir: {folder / 'data'}\n"
        f"nlu:\n  project_dir: {REPO / 'nlu'}\n  models_dir: {models.directory}\n"
        f"conversation:\n  responses_file: {REPO / 'config' / 'responses.yml'}\n"
        f"  agents_file: {REPO / 'config' / 'agents.yml'}\n",
        encoding="utf-8",
    )
    return load_settings(config, environ={})


async def assert_nothing_left(
    settings: Settings, name: str, *, postgres_url: str, redis_url: str
) -> None:
    """No folder, database (``name`` or ``name_...``) or Redis key of the run ``name``."""
    assert not (settings.data_dir / "bench" / name).exists()
    admin = create_async_engine(make_url(postgres_url), poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            found = await connection.execute(
                text(
                    "SELECT datname FROM pg_database WHERE datname = :name OR datname LIKE :under"
                ),
                {"name": name, "under": f"{name}\\_%"},
            )
            assert found.all() == []
    finally:
        await admin.dispose()
    client = aioredis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"{name}*")] == []
    finally:
        await client.aclose()
