"""Long id lists cut into IN (...) lists the drivers accept."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

# Values per IN (...) list: far below SQLite's 32766 and asyncpg's 32767 bound parameters.
# Multi-row INSERTs are paged by SQLAlchemy (1000 rows per statement, under both limits).
IN_CHUNK = 5_000


def in_chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]
