"""The one rule for times coming in, from GraphQL and from files alike.

A time is ISO 8601 text as `datetime.fromisoformat` reads it (2026-03-21T12:00:00Z,
2026-03-21T13:00:00+01:00, 2026-03-21 12:00, 20260321T120000). Without an offset it is
UTC; a bare date (2026-03-21) is 00:00 UTC that day. Every time is made an aware UTC
datetime before anything compares or stores it, so naive and aware never meet.

Parsing and range are two steps on purpose: text that is not a time at all fails where
it is read (a GraphQL coercion error, a rejected CSV row), while a real time outside
MIN_YEAR..MAX_YEAR is a domain problem the use case reports against its field, so in a
batch it stays with its row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from graph.errors import BadInput

# What every store holds and every window computed from a time stays inside
# (attribution looks back a year from a close, and datetime stops at year 9999).
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_TEXT = 40  # longer than any ISO 8601 form; bounds the work on hostile input

EXAMPLES = "such as 2026-03-21 or 2026-03-21T12:00:00Z"


class TimestampError(ValueError):
    """Text that is not a time this API takes; the message says why, without a field."""


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text (surrounding blanks ignored)."""
    value = text.strip()
    if not value:
        raise TimestampError(f"is empty; give an ISO 8601 date or time, {EXAMPLES}")
    if len(value) > MAX_TEXT or not value.isascii():
        raise TimestampError(f"is not an ISO 8601 date or time, {EXAMPLES}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # Also year 0, month 13, 24:00 and offsets of a day or more.
        raise TimestampError(f"is not an ISO 8601 date or time, {EXAMPLES}") from None
    return as_utc(parsed)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 or 9999-12-31T23:59-05:00: no such UTC datetime.
        raise TimestampError(f"is outside the years {MIN_YEAR} to {MAX_YEAR}") from None


def in_range(value: datetime, field: str) -> datetime:
    """`value` in UTC, or BadInput naming `field` when it lies outside MIN_YEAR..MAX_YEAR
    (as a UTC time)."""
    try:
        utc = as_utc(value)
    except TimestampError as problem:
        raise BadInput(f"{field} {problem}", field=field) from None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise BadInput(f"{field} is outside the years {MIN_YEAR} to {MAX_YEAR}", field=field)
    return utc
