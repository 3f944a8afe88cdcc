"""Shared by the lazily expiring records (deal registrations, introductions, asks): drain
a bounded store sweep, and filter a stored page by the status each item has as of now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from typing import TypeVar

from graph.model import Page

T = TypeVar("T")
S = TypeVar("S")

SWEEP_LIMIT = 1_000


async def drain(sweep: Callable[[int], Awaitable[list[T]]], *, limit: int = SWEEP_LIMIT) -> list[T]:
    """Call `sweep(limit)` until a batch comes back short; everything it moved."""
    moved: list[T] = []
    while batch := await sweep(limit):
        moved.extend(batch)
        if len(batch) < limit:
            break
    return moved


def as_of_page(
    page: Page[T],
    current: Callable[[T], T],
    status: Callable[[T], S],
    wanted: Collection[S] | None,
) -> Page[T]:
    """The page's items as of now (`current`), keeping those whose status is wanted
    (all when None or empty), with their cursors."""
    items, cursors = [], []
    for item, cursor in zip(page.items, page.cursors, strict=True):
        now_item = current(item)
        if not wanted or status(now_item) in wanted:
            items.append(now_item)
            cursors.append(cursor)
    return replace(page, items=items, cursors=cursors)
