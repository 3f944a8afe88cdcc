"""Login and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.identity import Token, TokenScope
from resolvers.auth import api_tokens
from resolvers.auth.login import login as login_service
from schema.context import Info
from schema.ids import decode
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt
from schema.viewer import Viewer

TOKENS_CURSOR = "apiTokens"


@strawberry.type(description="An API token's record. The secret itself is shown only once.")
class ApiToken(relay.Node):
    id: relay.NodeID[str]
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_record(cls, token: Token) -> Self:
        return cls(
            id=token.id,
            name=token.name,
            scope=token.scope,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        """The viewer's own API tokens only, as the apiTokens list."""
        context = info.context
        ids = list(node_ids)
        found = await api_tokens.get_api_tokens(context.identity, context.actor, ids)
        return [cls.from_record(found[i]) if i in found else None for i in ids]


@strawberry.type(name="ApiTokenConnection")
class ApiTokenConnection(relay.Connection[ApiToken]):
    pass


@strawberry.input
class LoginInput:
    email: str
    password: str
    org_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Required when the user belongs to several orgs."
    )


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send as Authorization: Bearer <token>.")
    expires_at: datetime
    viewer: Viewer


@strawberry.input
class CreateApiTokenInput:
    name: str
    scope: TokenScope = TokenScope.READ
    expires_at: datetime | None = None


@strawberry.type
class CreateApiTokenPayload:
    token: str | None = strawberry.field(description="The secret: shown now, never again.")
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.input
class RevokeApiTokenInput:
    id: relay.GlobalID


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class AuthQueries:
    @strawberry.field(description="The viewer's API tokens in the acting org, newest first.")
    async def api_tokens(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ApiTokenConnection:
        size, key, backward = window(TOKENS_CURSOR, first, after, last, before)
        page = await api_tokens.list_api_tokens(
            info.context.identity, info.context.actor, first=size, after=key, backward=backward
        )
        edges, page_info = edges_of(TOKENS_CURSOR, page, ApiToken.from_record)
        return ApiTokenConnection(edges=edges, page_info=page_info)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Exchange credentials for a session token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        context = info.context
        org_id = decode(input.org_id, "Org", field="orgId") if input.org_id else None
        result = await login_service(
            context.identity,
            context.auth,
            email=input.email,
            password=input.password,
            org_id=org_id,
            client_address=context.client_address,
            now=context.now(),
        )
        context.viewer_actor = result.actor
        return LoginPayload(token=result.token, expires_at=result.expires_at, viewer=Viewer())

    @strawberry.mutation(description="Create an API token for machine clients.")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        context = info.context
        created, errors = await attempt(
            api_tokens.create_api_token(
                context.identity,
                context.actor,
                name=input.name,
                scope=input.scope,
                expires_at=input.expires_at,
                now=context.now(),
            )
        )
        if created is None:
            return CreateApiTokenPayload(token=None, api_token=None, errors=errors)
        secret, record = created
        return CreateApiTokenPayload(
            token=secret, api_token=ApiToken.from_record(record), errors=[]
        )

    @strawberry.mutation(description="Revoke an API token (own tokens; ADMIN: any of the org's).")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        context, actor = info.context, info.context.actor
        token_id = decode(input.id, "ApiToken", field="id")
        record, errors = await attempt(
            api_tokens.revoke_api_token(
                context.identity, actor, token_id=token_id, now=context.now()
            )
        )
        return RevokeApiTokenPayload(
            api_token=ApiToken.from_record(record) if record else None, errors=errors
        )
