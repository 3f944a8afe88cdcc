"""Cursor connections built from store pages, with opaque cursors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry import relay

from graph.errors import BadInput
from graph.model import Page
from resolvers.pagination import page_size

T = TypeVar("T")
N = TypeVar("N")


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The store key inside an opaque cursor of `kind`; BadInput for anything else."""
    if cursor is None:
        return None
    try:
        found_kind, key = relay.from_base64(cursor)
    except ValueError:
        raise BadInput("after is not a valid cursor", field="after") from None
    if found_kind != kind:
        raise BadInput("after is a cursor of another list", field="after")
    return key


def window(kind: str, first: int | None, after: str | None) -> tuple[int, str | None]:
    return page_size(first), decode_cursor(kind, after)


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
        has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, info
