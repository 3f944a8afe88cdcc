"""The Starlette app factory: lifespan-owned stores, probes and the GraphQL endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from api.settings import Settings, load_settings
from api.stores import Stores, auth_config, open_stores, probe
from api.sweeper import sweeping
from graph.errors import TandemError
from privacy.keyring import Keyring
from resolvers.auth.bearer import authenticate, bearer_token
from resolvers.auth.config import AuthConfig
from resolvers.clock import utcnow
from resolvers.events import EventBroker, InProcessBroker
from schema.context import Context
from schema.root import graphql_schema


class State(TypedDict):
    stores: Stores
    settings: Settings
    auth: AuthConfig
    keyring: Keyring
    events: EventBroker


class TandemGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return await build_context(request)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Subscriptions authenticate at connection_init: browsers cannot set headers on
        a WebSocket, so the token travels as {"authorization": "Bearer ..."}."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        if context.viewer_actor is not None and raw is None:
            return None  # authenticated by the upgrade request's header already
        try:
            token = bearer_token(raw if isinstance(raw, str) else None)
            if token is None:
                raise ConnectionRejectionError({"message": "authentication required"})
            context.viewer_actor = await authenticate(
                context.identity,
                context.auth,
                token=token,
                client_address=context.client_address,
                now=utcnow(),
            )
            context.auth_error = None
        except TandemError:
            raise ConnectionRejectionError({"message": "invalid credentials"}) from None
        return None


async def build_context(connection: HTTPConnection) -> Context:
    stores: Stores = connection.state.stores
    context = Context(
        store=stores.graph,
        identity=stores.identity,
        auth=connection.state.auth,
        keyring=connection.state.keyring,
        events=connection.state.events,
        overlap_k=connection.state.settings.overlap_k,
        request=connection,
    )
    try:
        token = bearer_token(connection.headers.get("authorization"))
        if token is not None:
            context.viewer_actor = await authenticate(
                stores.identity,
                context.auth,
                token=token,
                client_address=context.client_address,
                now=utcnow(),
            )
    except TandemError as error:
        context.auth_error = error
    return context


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    settings: Settings = request.state.settings
    report = await probe(request.state.stores, settings.readiness_timeout_s)
    ready = all(value == "ok" for value in report.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "stores": report},
        status_code=200 if ready else 503,
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app. Settings default to the environment (uvicorn --factory uses that)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[State]:
        stores = open_stores(settings)
        events = InProcessBroker()
        try:
            async with sweeping(stores.graph, events, interval_s=settings.deal_sweep_s):
                yield {
                    "stores": stores,
                    "settings": settings,
                    "auth": auth_config(settings),
                    "keyring": settings.keyring,
                    "events": events,
                }
        finally:
            await stores.close()

    graphql = TandemGraphQL(graphql_schema, graphql_ide="graphiql" if settings.graphiql else None)
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
