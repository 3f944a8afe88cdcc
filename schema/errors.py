"""Maps every error leaving the schema to DESIGN.md's codes, in one place.

Domain errors keep their message and carry `extensions.code`; anything unexpected is
logged with its traceback and reaches the client only as a generic INTERNAL error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.relay import GlobalIDValueError

from graph.errors import RateLimited, TandemError

log = logging.getLogger("tandem.errors")

INTERNAL_MESSAGE = "internal error"


def to_client_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        # Parse and validation errors: the request itself is malformed.
        code = (error.extensions or {}).get("code", "BAD_USER_INPUT")
        return _with_extensions(error, error.message, {"code": code})
    if isinstance(original, TandemError):
        extensions: dict[str, object] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        if isinstance(original, RateLimited):
            extensions["retryAfter"] = round(original.retry_after, 1)
        return _with_extensions(error, original.message, extensions)
    if isinstance(original, GraphQLError | GlobalIDValueError):
        # Coercion failures of variables and arguments (bad IDs, enum values).
        return _with_extensions(error, error.message, {"code": "BAD_USER_INPUT"})
    log.error("unexpected error in %s", error.path, exc_info=original)
    return _with_extensions(error, INTERNAL_MESSAGE, {"code": "INTERNAL"})


def _with_extensions(
    error: GraphQLError, message: str, extensions: dict[str, object]
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [to_client_error(e) for e in result.errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [to_client_error(e) for e in pre]
