"""Page-size rules shared by every list."""

from __future__ import annotations

from graph.errors import BadInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(first: int | None, *, field: str = "first") -> int:
    """The size `first` (or `last`, named by `field`) asks for; the default when None."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadInput(f"{field} must be between 0 and {MAX_PAGE_SIZE}", field=field)
    return first
