"""Open the configured stores and probe them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from api.observability import Metrics, timed
from api.settings import Settings
from graph.errors import StoreUnavailable
from graph.factory import backend_of, open_store
from graph.identity import IdentityStore
from graph.port import GraphStore
from graph.sql.identity import SqlIdentityStore
from resolvers.auth.config import AuthConfig

log = logging.getLogger("tandem.stores")


@dataclass(slots=True)
class Stores:
    graph: GraphStore
    identity: IdentityStore

    async def apply_schema(self) -> None:
        await self.graph.apply_schema()
        await self.identity.apply_schema()

    async def close(self) -> None:
        await self.graph.close()
        await self.identity.close()


def open_stores(settings: Settings, metrics: Metrics | None = None) -> Stores:
    """The configured stores; with `metrics`, every port call is timed into them."""
    graph: GraphStore = open_store(
        settings.store_url,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        neo4j_database=settings.neo4j_database,
    )
    identity: IdentityStore = SqlIdentityStore(settings.identity_url)
    if metrics is not None:
        graph = timed(graph, metrics=metrics, store="graph", backend=graph.backend, port=GraphStore)
        identity = timed(
            identity,
            metrics=metrics,
            store="identity",
            backend=backend_of(settings.identity_url),
            port=IdentityStore,
        )
    return Stores(graph=graph, identity=identity)


def auth_config(settings: Settings) -> AuthConfig:
    return AuthConfig(
        bcrypt_cost=settings.bcrypt_cost,
        session_ttl=timedelta(hours=settings.session_ttl_hours),
    )


async def probe(stores: Stores, timeout_s: float) -> dict[str, str]:
    """Per store: "ok", or a one-line reason it is not answering."""
    names = ("graph", "identity")
    results = await asyncio.gather(
        *(_probe_one(s, timeout_s) for s in (stores.graph, stores.identity))
    )
    return dict(zip(names, results, strict=True))


async def _probe_one(store: GraphStore | IdentityStore, timeout_s: float) -> str:
    try:
        await asyncio.wait_for(store.ping(), timeout=timeout_s)
    except StoreUnavailable as error:
        # The probe answers with the short reason; operators get the driver's own words.
        log.warning("readiness probe: %s: %s", error.message, error.__cause__)
        return error.message
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    return "ok"
