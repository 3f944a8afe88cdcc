"""Driver exceptions to domain errors, in one table.

    neo4j.exceptions                    graph.errors
     ConstraintError                ->   Conflict
     ServiceUnavailable,
     SessionExpired,
     ConnectionAcquisitionTimeout,
     DatabaseUnavailable, OSError   ->   StoreUnavailable ("cannot reach ...")
     AuthError                      ->   StoreUnavailable ("rejected the credentials")
     DatabaseNotFound (by code)     ->   StoreUnavailable ("has no database ...")

Anything else is a bug (a bad query, a type error) and propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from neo4j.exceptions import (
    AuthError,
    ConnectionAcquisitionTimeoutError,
    ConstraintError,
    DatabaseUnavailable,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.errors import Conflict, StoreUnavailable

DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"

_UNREACHABLE = (
    ServiceUnavailable,
    SessionExpired,
    ConnectionAcquisitionTimeoutError,
    DatabaseUnavailable,
    OSError,
)


def describe(url: str) -> str:
    """The server a URL names, without any user info: safe for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port}" if parts.port else f"{parts.scheme}://{host}"


@contextmanager
def domain_errors(server: str, database: str) -> Iterator[None]:
    """Translate the driver's exceptions raised inside the block to graph.errors."""
    try:
        yield
    except ConstraintError as exc:
        raise Conflict("the write clashes with an existing record") from exc
    except AuthError as exc:
        raise StoreUnavailable(f"Neo4j at {server} rejected the credentials") from exc
    except _UNREACHABLE as exc:
        raise StoreUnavailable(f"cannot reach Neo4j at {server}: {type(exc).__name__}") from exc
    except Neo4jError as exc:
        if exc.code == DATABASE_NOT_FOUND:
            raise StoreUnavailable(f"Neo4j at {server} has no database {database!r}") from exc
        raise
