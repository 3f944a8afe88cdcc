"""The viewer: the authenticated principal and the org it acts for."""

from __future__ import annotations

import strawberry
from strawberry import relay

from graph.identity import Role, TokenKind, TokenScope
from schema.context import Info
from schema.orgs import OrgNode, load_org


@strawberry.type(description="A person who signs in.")
class User:
    id: relay.GlobalID
    email: str
    display_name: str


@strawberry.type(description="The caller: who, acting for which org, with which powers.")
class Viewer:
    @strawberry.field
    async def user(self, info: Info) -> User:
        actor = info.context.actor
        found = await info.context.identity.users_by_id([actor.user_id])
        record = found[actor.user_id]
        return User(
            id=relay.GlobalID("User", record.id),
            email=record.email,
            display_name=record.display_name,
        )

    @strawberry.field(description="The org the viewer acts for in this request.")
    async def org(self, info: Info) -> OrgNode:
        node = await load_org(info, info.context.actor.org_id)
        assert node is not None, "a membership always names an existing org"
        return node

    @strawberry.field
    def role(self, info: Info) -> Role:
        return info.context.actor.role

    @strawberry.field(description="READ tokens cannot run mutations other than login.")
    def scope(self, info: Info) -> TokenScope:
        return info.context.actor.scope

    @strawberry.field
    def token_kind(self, info: Info) -> TokenKind:
        return info.context.actor.token_kind
