"""Driver and SQLAlchemy exceptions -> graph.errors, in one place.

Messages name what went wrong, never the URL, credentials or statement parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from graph.errors import Conflict, NotFound, StoreUnavailable

# SQLSTATE classes that mean "the server is not there for us right now": connection
# exceptions, operator intervention (shutdown, starting up), insufficient resources.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53")


def _sqlstate(error: exc.DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


def _is_foreign_key_violation(error: exc.IntegrityError) -> bool:
    return _sqlstate(error) == "23503" or "FOREIGN KEY constraint failed" in str(error.orig)


@contextmanager
def translated(
    backend: str, *, conflict: str = "the write clashes with existing data"
) -> Iterator[None]:
    """Re-raise store exceptions as domain errors; `conflict` is the Conflict message."""
    unavailable = f"the {backend} store is unavailable"
    try:
        yield
    except exc.IntegrityError as error:
        if _is_foreign_key_violation(error):
            raise NotFound("the write refers to an org that does not exist") from error
        raise Conflict(conflict) from error
    except exc.DBAPIError as error:
        if (
            error.connection_invalidated
            or isinstance(error, exc.OperationalError | exc.InterfaceError)
            or _sqlstate(error).startswith(_UNAVAILABLE_SQLSTATE_PREFIXES)
        ):
            reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
            raise StoreUnavailable(f"{unavailable} ({reason})") from error
        raise
    except exc.TimeoutError as error:  # the connection pool is exhausted
        raise StoreUnavailable(f"{unavailable} (no free connection in the pool)") from error
    except (OSError, TimeoutError) as error:
        raise StoreUnavailable(f"{unavailable} ({type(error).__name__})") from error
