"""The Starlette app factory: lifespan-owned stores, probes and the GraphQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.settings import Settings, load_settings
from api.stores import open_graph_store, probe
from graph.port import GraphStore
from schema.context import Context
from schema.root import schema

log = logging.getLogger("tandem.app")


class State(TypedDict):
    store: GraphStore
    settings: Settings


class TandemGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Any = None
    ) -> Context:
        return Context(store=request.state.store, request=request)


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state_store: GraphStore = request.state.store
    settings: Settings = request.state.settings
    problem = await probe(state_store, settings.readiness_timeout_s)
    if problem is None:
        return JSONResponse({"status": "ready", "stores": {state_store.backend: "ok"}})
    return JSONResponse(
        {"status": "unavailable", "stores": {state_store.backend: problem}}, status_code=503
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app. Settings default to the environment (uvicorn --factory uses that)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[State]:
        store = open_graph_store(settings)
        try:
            yield {"store": store, "settings": settings}
        finally:
            await store.close()

    graphql = TandemGraphQL(
        schema, graphql_ide="graphiql" if settings.graphiql else None
    )
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
