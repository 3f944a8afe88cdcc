"""Page-size rules shared by every list."""

from __future__ import annotations

from graph.errors import BadInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadInput(f"first must be between 0 and {MAX_PAGE_SIZE}", field="first")
    return first
