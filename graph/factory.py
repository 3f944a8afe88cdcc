"""Open the graph store that a URL names."""

from __future__ import annotations

from urllib.parse import urlsplit

from graph.errors import ConfigurationError
from graph.port import ResettableStore

NEO4J_SCHEMES = {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}
SQL_SCHEMES = {"sqlite+aiosqlite", "postgresql+asyncpg"}


def backend_of(url: str) -> str:
    """The backend a store URL names, or ConfigurationError with the accepted forms."""
    scheme = urlsplit(url).scheme
    if scheme in NEO4J_SCHEMES:
        return "neo4j"
    if scheme == "sqlite+aiosqlite":
        return "sqlite"
    if scheme == "postgresql+asyncpg":
        return "postgresql"
    raise ConfigurationError(
        f"unsupported store URL scheme {scheme!r}: use sqlite+aiosqlite:///PATH, "
        "postgresql+asyncpg://USER@HOST/DB or neo4j://HOST:PORT (bolt:// also works)"
    )


def open_store(
    url: str,
    *,
    neo4j_user: str | None = None,
    neo4j_password: str | None = None,
    neo4j_database: str = "neo4j",
    allow_reset: bool = False,
) -> ResettableStore:
    """Create the adapter for `url`. Opening is lazy: nothing connects until first use."""
    backend = backend_of(url)
    if backend == "neo4j":
        from graph.neo4j.store import Neo4jStore

        return Neo4jStore(
            url,
            user=neo4j_user,
            password=neo4j_password,
            database=neo4j_database,
            allow_reset=allow_reset,
        )
    from graph.sql.store import SqlStore

    return SqlStore(url, allow_reset=allow_reset)
