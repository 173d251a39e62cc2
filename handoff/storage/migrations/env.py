"""Alembic environment for Tandem's schema.

:mod:`handoff.storage.migrate` runs it with an open connection (inside the transaction that
holds the migration lock) in ``config.attributes``. Without one, for instance when a
developer autogenerates a revision with ``command.revision(config, autogenerate=True)`` and
``sqlalchemy.url`` set on ``config``, it opens its own connection.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from handoff.storage.engine import make_engine, parse_url
from handoff.storage.migrate import CONNECTION_ATTRIBUTE
from handoff.storage.tables import Base


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_connection(url: str) -> None:
    engine = make_engine(parse_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def _main() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        # ``--sql`` mode: print the DDL for review instead of running it.
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get(CONNECTION_ATTRIBUTE)
    if connection is not None:
        _run_migrations(connection)
        return
    if url is None:
        raise RuntimeError("pass a connection in config.attributes or set sqlalchemy.url")
    asyncio.run(_run_with_own_connection(url))


_main()
