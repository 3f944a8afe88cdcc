"""Keyset paging helpers shared by the adapters: fetch `first + 1`, keep `first`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from graph.errors import BadInput
from graph.model import Page

T = TypeVar("T")


def check_first(first: int) -> None:
    if first < 0:
        raise BadInput("first must not be negative", field="first")


def page(items: list[T], first: int, key: Callable[[T], str]) -> Page[T]:
    """A page of the first `first` of `items` (fetched as first + 1, so one more means
    there is a next page), with each item's cursor from `key`."""
    shown = items[:first]
    return Page(items=shown, has_next=len(items) > first, cursors=[key(i) for i in shown])
