"""Engines per dialect.

SQLite: WAL, foreign keys, a busy timeout and a larger page cache on every connection.
The driver's own implicit BEGIN is turned off and the engine emits it: `BEGIN IMMEDIATE`
for write units of work, so concurrent writers queue on the busy timeout instead of
failing with "database is locked" when a deferred transaction tries to upgrade its lock.

PostgreSQL (asyncpg): a short connect timeout so calls fail fast while the server is
down, and pre-ping so the pool recovers by itself once it is back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

CONNECT_TIMEOUT_SECONDS = 5
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "tandem_write"


def create_engine(url: str) -> AsyncEngine:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "server_settings": {"application_name": "tandem"},
        },
    )


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool), marked so that SQLite takes the write lock up front."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=True)

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            # 64 MiB of page cache (the default is 2): bulk account imports insert into
            # indexes on random hashes, and run about half as fast from a small cache.
            "PRAGMA cache_size = -65536",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
