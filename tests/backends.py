"""Which store backends a test run uses, and where they are.

Every backend is required: a missing URL is a failure, never a skip. A developer who
wants a quicker local loop names the backends explicitly with TANDEM_TEST_BACKENDS
(for example `TANDEM_TEST_BACKENDS=sqlite`); CI never sets it.
"""

from __future__ import annotations

import os

ALL_BACKENDS = ("sqlite", "postgresql", "neo4j")


def selected_backends() -> tuple[str, ...]:
    raw = os.environ.get("TANDEM_TEST_BACKENDS", "")
    if not raw:
        return ALL_BACKENDS
    if os.environ.get("CI") == "true":
        raise RuntimeError("TANDEM_TEST_BACKENDS must not be set in CI: every backend runs")
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = set(names) - set(ALL_BACKENDS)
    if unknown:
        raise RuntimeError(f"unknown backends in TANDEM_TEST_BACKENDS: {sorted(unknown)}")
    return names


def backend_url(backend: str) -> str:
    if backend == "sqlite":
        return ""  # each test gets a fresh file; see tests/conftest.py
    variable = {"postgresql": "TANDEM_TEST_POSTGRES_URL", "neo4j": "TANDEM_TEST_NEO4J_URL"}[backend]
    url = os.environ.get(variable)
    if not url:
        raise RuntimeError(
            f"{variable} is not set: run the suite with tools/test, which starts "
            f"{backend}, or point {variable} at a running server"
        )
    return url


def redis_url() -> str | None:
    """The Redis server of the event-broker tests (TANDEM_TEST_REDIS_URL; tools/test
    starts one). Missing, it fails the run in CI and in a full run, as a missing store
    backend does; in a quick loop that names TANDEM_TEST_BACKENDS, None (tests skip)."""
    url = os.environ.get("TANDEM_TEST_REDIS_URL")
    if url:
        return url
    if os.environ.get("CI") == "true" or not os.environ.get("TANDEM_TEST_BACKENDS"):
        raise RuntimeError(
            "TANDEM_TEST_REDIS_URL is not set: run the suite with tools/test, which starts "
            "Redis, or point TANDEM_TEST_REDIS_URL at a running server"
        )
    return None
