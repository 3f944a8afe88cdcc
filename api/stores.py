"""Open the configured stores and probe them."""

from __future__ import annotations

import asyncio

from api.settings import Settings
from graph.errors import StoreUnavailable
from graph.factory import open_store
from graph.port import GraphStore


def open_graph_store(settings: Settings) -> GraphStore:
    return open_store(
        settings.store_url,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        neo4j_database=settings.neo4j_database,
    )


async def probe(store: GraphStore, timeout_s: float) -> str | None:
    """None when the store answers within the timeout, else a one-line reason."""
    try:
        await asyncio.wait_for(store.ping(), timeout=timeout_s)
    except StoreUnavailable as error:
        return error.message
    except TimeoutError:
        return f"{store.backend} did not answer within {timeout_s:g}s"
    return None
