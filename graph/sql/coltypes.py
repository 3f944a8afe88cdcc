"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, Text, TypeDecorator
from sqlalchemy.types import TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is stored as
    naive UTC and the zone is put back on read. Naive datetimes are refused on write.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value)!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def key_type() -> TypeEngine[str]:
    """Text compared by code point everywhere (SQLite's default; "C" on PostgreSQL), so
    ids and names sort the same on every backend, whatever the database's locale."""
    return Text().with_variant(Text(collation="C"), "postgresql")


class Money(TypeDecorator[Decimal]):
    """Exact decimals: the same Decimal out as in, value and scale ("0.10" stays "0.10").

    PostgreSQL stores an unconstrained NUMERIC (asyncpg hands Decimals both ways).
    SQLite's NUMERIC affinity would turn many values into floats, so there the column is
    TEXT holding the plain-notation decimal string (so never compare or sort amounts in
    SQL: on SQLite that would be text order). Floats and non-finite values are refused
    on write.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"money must be a finite Decimal, got {value}")
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return Decimal(value)
        raise TypeError(f"expected a decimal from the database, got {type(value)!r}")
