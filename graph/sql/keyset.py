"""Keyset paging by one unique column, both ways (graph/paging.py describes `backward`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

S = TypeVar("S", bound=Select[Any])


def by_key(
    query: S,
    column: ColumnElement[str] | InstrumentedAttribute[str],
    *,
    descending: bool,
    first: int,
    after: str | None,
    backward: bool,
) -> S:
    """`query` ordered by `column` (descending or not: the list's own order), `first + 1`
    rows from just past `after`. With `backward` the same order walked in reverse, from
    just before `after` (from the end when it is None): pass the rows to
    graph.paging.page with the same `backward` to get them back in the list's order."""
    reverse = descending != backward  # the direction the rows are read in
    if after is not None:
        query = query.where(column < after if reverse else column > after)
    return query.order_by(column.desc() if reverse else column.asc()).limit(first + 1)


def by_time_key(
    query: S,
    at: ColumnElement[datetime],
    key: ColumnElement[str],
    *,
    descending: bool,
    first: int,
    after: tuple[datetime, str] | None,
    backward: bool,
) -> S:
    """As `by_key`, for lists ordered by a timestamp with the id breaking ties; `after`
    is the (timestamp, id) of graph.paging.after_time_key."""
    reverse = descending != backward
    if after is not None:
        after_at, after_id = after
        query = query.where(
            or_(at < after_at, and_(at == after_at, key < after_id))
            if reverse
            else or_(at > after_at, and_(at == after_at, key > after_id))
        )
    order = (at.desc(), key.desc()) if reverse else (at.asc(), key.asc())
    return query.order_by(*order).limit(first + 1)
