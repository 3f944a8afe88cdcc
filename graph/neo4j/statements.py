"""What every Neo4j adapter module does inside a managed transaction: run one statement
and read its `row` column, and refuse naive timestamps before they reach Cypher."""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction

from graph.errors import BadInput


async def fetch_rows(
    tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]
) -> list[Any]:
    """Run one statement and collect its `row` column (a map or a plain value)."""
    result = await tx.run(query, params)
    return [record["row"] async for record in result]


def check_aware(value: datetime | None, field: str) -> None:
    """BadInput for a naive timestamp (None passes: an optional one left out)."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise BadInput("timestamps must be timezone-aware", field=field)
