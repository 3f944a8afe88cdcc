"""Keyset paging helpers shared by the adapters: fetch `first + 1`, keep `first`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from graph.errors import BadInput
from graph.model import Account, OverlapOrder, OverlapSort, Page

T = TypeVar("T")

# A sort value as the cursor carries it: text, a timestamp, or a missing owner.
SortValue = str | datetime | None


def check_first(first: int) -> None:
    if first < 0:
        raise BadInput("first must not be negative", field="first")


def page(items: list[T], first: int, key: Callable[[T], str]) -> Page[T]:
    """A page of the first `first` of `items` (fetched as first + 1, so one more means
    there is a next page), with each item's cursor from `key`."""
    shown = items[:first]
    return Page(items=shown, has_next=len(items) > first, cursors=[key(i) for i in shown])


def sort_value(order: OverlapOrder, account: Account) -> SortValue:
    """The value of `order`'s field on `account` (None for the id order)."""
    match order.field:
        case OverlapSort.ID:
            return None
        case OverlapSort.NAME:
            return account.name
        case OverlapSort.OWNER:
            return account.owner
        case OverlapSort.CREATED_AT:
            return account.created_at
        case OverlapSort.UPDATED_AT:
            return account.updated_at


def order_cursor(order: OverlapOrder, account: Account) -> str:
    """The keyset cursor of `account` in `order`: the order itself, the sort value and the
    id, so that a cursor is only ever accepted by the order that made it."""
    value = sort_value(order, account)
    encoded = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps([order.field.value, order.direction.value, encoded, account.id])


def after_key(order: OverlapOrder, cursor: str | None) -> tuple[SortValue, str] | None:
    """The (sort value, id) after which a page in `order` starts; BadInput for a cursor
    that is malformed or was made by another order."""
    if cursor is None:
        return None
    try:
        field, direction, value, account_id = json.loads(cursor)
    except (ValueError, TypeError):
        raise BadInput("after is not a valid cursor", field="after") from None
    if field != order.field.value or direction != order.direction.value:
        raise BadInput("after is a cursor of another order", field="after")
    if not isinstance(account_id, str) or not (value is None or isinstance(value, str)):
        raise BadInput("after is not a valid cursor", field="after")
    if order.field in (OverlapSort.CREATED_AT, OverlapSort.UPDATED_AT):
        try:
            return datetime.fromisoformat(value or ""), account_id
        except ValueError:
            raise BadInput("after is not a valid cursor", field="after") from None
    if value is None and order.field is not OverlapSort.OWNER and order.field is not OverlapSort.ID:
        raise BadInput("after is not a valid cursor", field="after")
    return value, account_id


def time_cursor(at: datetime, id_: str) -> str:
    """The keyset cursor of a record listed by (timestamp, id), either direction."""
    return json.dumps([at.astimezone(UTC).isoformat(), id_])


def after_time_key(cursor: str) -> tuple[datetime, str]:
    """The (timestamp, id) a time_cursor names; BadInput for anything else."""
    try:
        at, id_ = json.loads(cursor)
        parsed = datetime.fromisoformat(at)
    except (ValueError, TypeError) as exc:
        raise BadInput("the cursor is not valid here", field="after") from exc
    if not isinstance(id_, str) or parsed.tzinfo is None:
        raise BadInput("the cursor is not valid here", field="after")
    return parsed, id_
