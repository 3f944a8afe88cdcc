"""Run the Alembic migrations in migrations/ programmatically (no alembic.ini needed).

`alembic` on the command line works too, from this folder's alembic.ini, with the URL in
`-x url=...` (see migrations/env.py).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant: serializes concurrent upgrades of one PostgreSQL database (several API
# processes starting at once). SQLite serializes them with BEGIN IMMEDIATE.
_PG_MIGRATION_LOCK = 7_311_042


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """`alembic upgrade head` on `engine`, in one transaction; idempotent."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "head")
