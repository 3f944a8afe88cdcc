"""The Starlette app factory: lifespan-owned stores, probes and the GraphQL endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema, Schema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from api.broker import open_broker
from api.documents import DocumentCache
from api.http import BodySizeLimit
from api.limits import Limits, PersistedQueryError, SafetyLimits, resolve_persisted
from api.observability import (
    Metrics,
    Observe,
    OperationInfo,
    configure_logging,
    record_errors,
    tracing_extension,
)
from api.settings import Settings, load_settings
from api.stores import Stores, auth_config, open_stores, probe
from api.sweeper import sweeping
from api.webhooks import dispatching
from graph.errors import TandemError
from privacy.keyring import Keyring
from resolvers.auth.bearer import authenticate, bearer_token
from resolvers.auth.config import AuthConfig
from resolvers.clock import utcnow
from resolvers.events import EventBroker
from schema.context import Context
from schema.root import graphql_schema


class State(TypedDict):
    stores: Stores
    settings: Settings
    auth: AuthConfig
    keyring: Keyring
    events: EventBroker


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8"


def wants_graphql_response(request: Request) -> bool:
    return "application/graphql-response+json" in request.headers.get("accept", "")


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: no data and no error from a field."""
    return (
        bool(result.errors)
        and result.data is None
        and all(error.path is None for error in result.errors or [])
    )


def _codes(result: ExecutionResult) -> set[object]:
    return {(error.extensions or {}).get("code") for error in result.errors or []}


class TandemGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, *, limits: Limits, **options: Any) -> None:
        super().__init__(schema, **options)
        self.limits = limits

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Persisted-query rules first, then the operation under the request timeout."""
        try:
            query = resolve_persisted(request_data.query, request_data.extensions, self.limits)
        except PersistedQueryError as refused:
            result = ExecutionResult(
                data=None,
                errors=[GraphQLError(refused.message, extensions={"code": refused.code})],
            )
        else:
            if query != request_data.query:
                request_data = dataclasses.replace(request_data, query=query)
            result = await self._execute_in_time(
                request, request_adapter, sub_response, context, request_data
            )
        if wants_graphql_response(request):
            # GraphQL over HTTP: the newer media type, with 4xx for requests that could
            # not start executing (parse, validation, variables, limits).
            sub_response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if is_request_error(result):
                sub_response.status_code = 504 if _codes(result) == {"TIMEOUT"} else 400
        return result

    async def _execute_in_time(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                return await super().execute_single(
                    request, request_adapter, sub_response, context, None, request_data
                )
        except HTTPException as refused:
            if isinstance(refused.__cause__, InvalidOperationTypeError) and (
                request_adapter.method == "GET"
            ):
                # GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed.
                raise HTTPException(405, refused.reason) from refused
            raise
        except TimeoutError:
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"the request took longer than {self.limits.timeout_s:g}s and was "
                        "stopped; ask for less (smaller pages, fewer fields)",
                        extensions={"code": "TIMEOUT"},
                    )
                ],
            )

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return await build_context(request)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        data = await super().process_result(request, result)
        record_errors(result.errors)
        if wants_graphql_response(request) and is_request_error(result):
            data.pop("data", None)  # the request never started executing: no data entry
        return data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        media_type = sub_response.headers.get("content-type", "application/json")
        if "content-type" in sub_response.headers:
            del sub_response.headers["content-type"]
        response = super().create_response(response_data, sub_response)
        if media_type != "application/json":
            response.headers["content-type"] = media_type
        return response

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
        intro_policy=connection.state.settings.intro_policy,
        complements=connection.state.settings.complements,
        webhooks=connection.state.settings.webhooks,
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
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[State]:
        stores = open_stores(settings, metrics)
        try:
            async with (
                open_broker(settings.event_broker_url) as events,
                sweeping(stores.graph, events, interval_s=settings.deal_sweep_s),
                dispatching(
                    stores.graph,
                    settings.webhooks,
                    interval_s=settings.webhook_interval_s,
                    enabled=settings.webhook_dispatch,
                ),
            ):
                yield {
                    "stores": stores,
                    "settings": settings,
                    "auth": auth_config(settings),
                    "keyring": settings.keyring,
                    "events": events,
                }
        finally:
            await stores.close()

    graphql = TandemGraphQL(
        install_extensions(graphql_schema, tracing=settings.tracing),
        limits=settings.limits,
        graphql_ide="graphiql" if settings.graphiql else None,
    )
    configure_logging(settings.log_json)
    return Starlette(
        routes=[
            Route("/metrics", metrics.endpoint),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(Observe, metrics=metrics),
            Middleware(BodySizeLimit, max_bytes=settings.limits.max_body_bytes),
        ],
    )


def install_extensions(schema: BaseSchema, *, tracing: bool = False) -> BaseSchema:
    """Add the API's extensions to the schema once. They run inside ErrorCodes (listed
    after it), so their errors are mapped like any other; they read their settings from
    the request's state, so one schema serves apps with different settings."""
    assert isinstance(schema, Schema)
    extensions = list(schema.extensions)
    wanted: list[Any] = [SafetyLimits, DocumentCache, OperationInfo]
    if tracing:
        wanted.insert(0, tracing_extension())
    for extension in wanted:
        if extension not in extensions:
            extensions.append(extension)
    schema.extensions = tuple(extensions)
    return schema
