"""Scalars that replace strawberry's built-in ones (installed in schema/root.py).

DateTime reads input with the project's one time rule (resolvers/timestamps.py), so a
resolver only ever sees aware UTC datetimes; its output is unchanged (isoformat, which
for the stores' UTC values ends in +00:00).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from resolvers.timestamps import MAX_TEXT, TimestampError, parse_timestamp


def _serialize(value: datetime) -> str:
    return value.isoformat()


def _parse_value(value: object) -> datetime:
    # A GraphQLError, not a ValueError: graphql-core reports it as the variable's or
    # literal's coercion error, which schema/errors.py maps to BAD_USER_INPUT.
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime must be a string, not {type(value).__name__}")
    try:
        return parse_timestamp(value)
    except TimestampError as problem:
        shown = value if len(value) <= MAX_TEXT else f"{value[:MAX_TEXT]}…"
        raise GraphQLError(f'DateTime "{shown}" {problem}') from None


DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=(
        "An ISO 8601 date and time. Output is always UTC with its offset "
        "(2026-03-21T12:00:00+00:00). Input may carry any offset; without one it is UTC, "
        "and a bare date (2026-03-21) is 00:00 UTC that day."
    ),
    serialize=_serialize,
    parse_value=_parse_value,
)
