"""Shared fixtures: one `store` fixture, parametrized over every selected backend, and
one `identity` fixture, parametrized over the selected SQL backends."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.factory import open_store
from graph.port import ResettableStore
from graph.sql.identity import SqlIdentityStore
from tests.backends import backend_url, selected_backends


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", selected_backends(), scope="session")


@pytest.fixture(scope="session")
async def session_store(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ResettableStore]:
    """One open store per backend for the whole run; `store` empties it per test."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "contract.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = backend_url(backend)
    store = open_store(
        url,
        neo4j_user=os.environ.get("TANDEM_TEST_NEO4J_USER"),
        neo4j_password=os.environ.get("TANDEM_TEST_NEO4J_PASSWORD"),
        allow_reset=True,
    )
    await store.apply_schema()
    yield store
    await store.close()


@pytest.fixture
async def store(session_store: ResettableStore) -> ResettableStore:
    """An empty store of the current backend."""
    await session_store.reset()
    return session_store


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tandem.sqlite3'}"


SQL_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session", params=[b for b in selected_backends() if b in SQL_BACKENDS])
def identity_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of the identity store: the graph store's PostgreSQL database (shared,
    as in deployments without Neo4j), or a SQLite file of its own."""
    backend: str = request.param
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('identity') / 'identity.sqlite3'}"
    return backend_url(backend)


@pytest.fixture(scope="session")
async def session_identity(identity_url: str) -> AsyncIterator[SqlIdentityStore]:
    """One open identity store per SQL backend for the whole run; `identity` empties it."""
    identity = SqlIdentityStore(identity_url, allow_reset=True)
    await identity.apply_schema()
    yield identity
    await identity.close()


@pytest.fixture
async def identity(session_identity: SqlIdentityStore) -> SqlIdentityStore:
    """An empty identity store of the current SQL backend."""
    await session_identity.reset()
    return session_identity
