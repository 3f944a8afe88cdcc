"""What every SQL-backed store shares: the engine, units of work, schema, probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.sql.engine import create_engine, writer
from graph.sql.errors import translated
from graph.sql.migrate import upgrade_to_head


class SqlDatabase:
    def __init__(self, url: str, *, allow_reset: bool = False) -> None:
        self._backend = make_url(url).get_backend_name()
        self._engine = create_engine(url)
        self._read = async_sessionmaker(self._engine, expire_on_commit=False)
        self._write = async_sessionmaker(writer(self._engine), expire_on_commit=False)
        self._allow_reset = allow_reset

    @property
    def backend(self) -> str:
        return self._backend

    @asynccontextmanager
    async def _unit(
        self, *, write: bool = False, conflict: str | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction; commits on success, rolls back and translates on error."""
        factory = self._write if write else self._read
        with translated(self._backend, conflict=conflict or "the write clashes"):
            async with factory() as session, session.begin():
                yield session

    async def apply_schema(self) -> None:
        """Both stores apply the one Alembic history: they may share a database."""
        with translated(self._backend):
            await upgrade_to_head(writer(self._engine))

    async def ping(self) -> None:
        async with self._unit() as session:
            await session.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()
