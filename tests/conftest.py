"""Shared fixtures: one `store` fixture, parametrized over every selected backend, and
one `identity` fixture, parametrized over the selected SQL backends."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph.factory import open_store
from graph.port import ResettableStore
from graph.sql.identity import SqlIdentityStore
from tests.backends import ALL_BACKENDS, backend_url, selected_backends


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many tests ran per backend, so a missing backend is seen at a glance."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            params = report.nodeid.rpartition("[")[2].rstrip("]").split("-")
            backend = next((b for b in ALL_BACKENDS if b in params), None)
            if backend is not None:
                per_backend = counts.setdefault(backend, {})
                per_backend[outcome] = per_backend.get(outcome, 0) + 1
    if counts:
        summary = "; ".join(
            f"{b}: " + ", ".join(f"{n} {o}" for o, n in counts[b].items())
            for b in ALL_BACKENDS
            if b in counts
        )
        terminalreporter.write_line(f"store backends: {summary}")
