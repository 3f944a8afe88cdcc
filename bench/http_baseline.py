"""The baseline of bench/http_api.py: a bare Starlette app with one JSON endpoint per
benchmarked operation, outside the product.

Each endpoint authenticates as the GraphQL context does (`bearer_token` and
`authenticate` on the same identity store), calls the same service functions the
GraphQL resolvers call, and writes by hand the JSON the GraphQL query of
bench/http_api.py answers (`{"data": ...}`, the same ids and cursors), so the two
answers compare equal. What it leaves out is what the comparison measures: parsing,
validation and execution of the GraphQL document, strawberry's types and field
resolvers, the DataLoaders, the query-safety and observability extensions and the
product's middleware (request id, access log, metrics, body-size limit).

    uvicorn bench.http_baseline:create_app --factory --workers 2 --port 8001
    (TANDEM_* settings from the environment, as for `tandem serve`)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry import relay

from api.settings import Settings, load_settings
from api.stores import Stores, auth_config, open_stores
from graph.errors import TandemError, Unauthenticated
from graph.model import Org
from resolvers import overlaps as overlap_service
from resolvers.actor import Actor
from resolvers.attribution import AttributionConfig, AttributionModel
from resolvers.auth.bearer import authenticate, bearer_token
from resolvers.clock import utcnow
from resolvers.influence import reports
from schema.ids import decode
from schema.overlaps import CURSOR_KIND
from schema.pagination import window


def _gid(type_name: str, node_id: str) -> str:
    return relay.to_base64(type_name, node_id)


def _org(org: Org | None, *fields: str) -> dict[str, Any] | None:
    if org is None:
        return None
    every = {
        "id": _gid("Org", org.id),
        "name": org.name,
        "types": [t.name for t in sorted(org.types)],
        "region": org.region,
    }
    return {f: every[f] for f in fields}


async def _actor(request: Request) -> Actor:
    stores: Stores = request.state.stores
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("authentication required")
    return await authenticate(
        stores.identity,
        request.state.auth,
        token=token,
        client_address=request.client.host if request.client else None,
        now=utcnow(),
    )


async def viewer(request: Request) -> JSONResponse:
    stores: Stores = request.state.stores
    actor = await _actor(request)
    users = await stores.identity.users_by_id([actor.user_id])
    orgs = await stores.graph.get_orgs([actor.org_id])
    user = users[actor.user_id]
    return JSONResponse(
        {
            "data": {
                "viewer": {
                    "role": actor.role.name,
                    "scope": actor.scope.name,
                    "tokenKind": actor.token_kind.name,
                    "user": {
                        "id": _gid("User", user.id),
                        "email": user.email,
                        "displayName": user.display_name,
                    },
                    "org": _org(orgs.get(actor.org_id), "id", "name", "types", "region"),
                }
            }
        }
    )


async def overlaps(request: Request) -> JSONResponse:
    stores: Stores = request.state.stores
    actor = await _actor(request)
    body = await request.json()
    partner = decode(relay.GlobalID.from_id(body["partnerId"]), "Org", field="partnerId")
    size, key, backward = window(CURSOR_KIND, body.get("first"), body.get("after"))
    page = await overlap_service.overlaps(
        stores.graph,
        stores.identity,
        actor,
        partner_id=partner,
        my_population=None,
        partner_population=None,
        first=size,
        after=key,
        backward=backward,
        now=utcnow(),
    )
    edges = []
    for view, cursor in zip(page.items, page.cursors, strict=True):
        account = view.match.account
        edges.append(
            {
                "cursor": relay.to_base64(CURSOR_KIND, cursor),
                "node": {
                    "account": {
                        "id": _gid("Account", account.id),
                        "crmId": account.crm_id,
                        "name": account.name,
                        "owner": account.owner,
                        "populations": list(account.populations),
                        "fields": [{"name": n, "value": v} for n, v in account.fields],
                    },
                    "partnerPopulations": list(view.partner_populations),
                    "partnerDetails": [
                        {
                            "populations": list(d.populations),
                            "owner": d.owner,
                            "fields": [{"name": n, "value": v} for n, v in d.fields],
                        }
                        for d in view.details
                    ],
                },
            }
        )
    return JSONResponse(
        {
            "data": {
                "overlaps": {
                    "edges": edges,
                    "pageInfo": {
                        "hasNextPage": page.has_next,
                        "endCursor": edges[-1]["cursor"] if edges else None,
                    },
                }
            }
        }
    )


async def attribution(request: Request) -> JSONResponse:
    stores: Stores = request.state.stores
    actor = await _actor(request)
    body = await request.json()
    opportunity = decode(
        relay.GlobalID.from_id(body["opportunityId"]), "Opportunity", field="opportunityId"
    )
    _, result = await reports.attribution(
        stores.graph,
        actor,
        opportunity,
        model=AttributionModel[body.get("model", "LINEAR")],
        config=AttributionConfig(),
        now=utcnow(),
    )
    orgs = await stores.graph.get_orgs(sorted({c.partner_org for c in result.credits}))
    return JSONResponse(
        {
            "data": {
                "attribution": {
                    "model": result.model.name,
                    "amount": str(result.amount),
                    "currency": result.currency,
                    "credits": [
                        {
                            "share": str(c.share),
                            "amount": str(c.amount),
                            "partner": _org(orgs.get(c.partner_org), "id", "name"),
                        }
                        for c in result.credits
                    ],
                }
            }
        }
    )


async def _refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TandemError)
    status = 401 if isinstance(error, Unauthenticated) else 400
    return JSONResponse({"errors": [{"message": error.message}]}, status_code=status)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        stores = open_stores(settings)
        try:
            yield {"stores": stores, "auth": auth_config(settings)}
        finally:
            await stores.close()

    return Starlette(
        routes=[
            Route("/viewer", viewer, methods=["POST"]),
            Route("/overlaps", overlaps, methods=["POST"]),
            Route("/attribution", attribution, methods=["POST"]),
        ],
        lifespan=lifespan,
        exception_handlers={TandemError: _refused},
    )
