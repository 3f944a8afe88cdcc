"""Cursor connections built from store pages, with opaque cursors, paged both ways.

The arguments (docs/api.md, Pagination): `first` with an optional `after` pages forward,
`last` with an optional `before` pages backward; `after` or `before` alone pages that
way with the default size, and so does no argument at all (forward). Mixing the
directions (`first` with `last`, `after` with `before`, `first` with `before`, `last`
with `after`) is BAD_USER_INPUT, as is a size above the maximum. A cursor is the same
whichever way it was read, so a forward page's cursor works as `before` and a backward
page's as `after`.

pageInfo: a forward page sets hasNextPage from its extra row and a backward page
hasPreviousPage from its own; the other flag is always false (Relay allows that when
the server cannot tell cheaply: finding out would take a second read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from strawberry import relay

from graph.errors import BadInput
from graph.model import Page
from resolvers.pagination import page_size

T = TypeVar("T")
N = TypeVar("N")


def decode_cursor(kind: str, cursor: str | None, *, name: str = "after") -> str | None:
    """The store key inside an opaque cursor of `kind`; BadInput for anything else,
    naming the argument (`name`) it came in."""
    if cursor is None:
        return None
    try:
        found_kind, key = relay.from_base64(cursor)
    except ValueError:
        raise BadInput(f"{name} is not a valid cursor", field=name) from None
    if found_kind != kind:
        raise BadInput(f"{name} is a cursor of another list", field=name)
    return key


class Window(NamedTuple):
    """What a connection's arguments ask the store for (graph/paging.py)."""

    size: int
    key: str | None  # the store cursor: `after`, or `before` when backward
    backward: bool


def window(
    kind: str,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    """The page the Relay arguments ask for; BadInput when they mix directions."""
    if first is not None and last is not None:
        raise BadInput("pass first or last, not both", field="last")
    if after is not None and before is not None:
        raise BadInput("pass after or before, not both", field="before")
    if first is not None and before is not None:
        raise BadInput("before goes with last, not first", field="before")
    if last is not None and after is not None:
        raise BadInput("after goes with first, not last", field="after")
    if last is not None or before is not None:
        return Window(
            page_size(last, field="last"), decode_cursor(kind, before, name="before"), True
        )
    return Window(page_size(first), decode_cursor(kind, after), False)


def edges_of(
    kind: str, page: Page[T], to_node: Callable[[T], N]
) -> tuple[list[relay.Edge[N]], relay.PageInfo]:  # type: ignore[type-var]
    # Edge's type variable is bound to Node; plain records (tokens, audit entries) use the
    # same edge shape, which GraphQL does not mind.
    edges: list[relay.Edge[N]] = [  # type: ignore[type-var]
        relay.Edge(node=to_node(item), cursor=relay.to_base64(kind, key))  # type: ignore[type-var]
        for item, key in zip(page.items, page.cursors, strict=True)
    ]
    info = relay.PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, info
