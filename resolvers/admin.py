"""Bootstrap operations for a self-hosted admin (the CLI), without GraphQL."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore, Membership, Role, TokenKind, TokenScope, User
from graph.model import Org, OrgType
from graph.port import GraphStore
from resolvers.actor import Actor
from resolvers.auth.config import AuthConfig
from resolvers.auth.passwords import hash_password, policy_problem
from resolvers.ids import new_id

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}$")
MAX_NAME_LENGTH = 200


def check_name(name: str, *, field: str = "name") -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise BadInput(f"{field} must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    return name


async def create_org(
    graph: GraphStore,
    *,
    name: str,
    types: set[OrgType],
    region: str,
    discoverable: bool,
    now: datetime,
) -> Org:
    if not types:
        raise BadInput("an org needs at least one type", field="types")
    org = Org(
        id=new_id(),
        name=check_name(name),
        types=frozenset(types),
        region=check_name(region, field="region"),
        discoverable=discoverable,
        created_at=now,
    )
    return await graph.create_org(org)


async def add_user(
    graph: GraphStore,
    identity: IdentityStore,
    config: AuthConfig,
    *,
    email: str,
    password: str | None,
    display_name: str,
    org_id: str,
    role: Role,
    now: datetime,
) -> tuple[User, Membership]:
    """Create the user if new (password required then), and give it `role` in the org."""
    email = email.strip().casefold()
    if not EMAIL.match(email):
        raise BadInput("not an e-mail address", field="email")
    if org_id not in await graph.get_orgs([org_id]):
        raise NotFound("no such organization")
    user = await identity.user_by_email(email)
    if user is None:
        if password is None:
            raise BadInput("a new user needs a password", field="password")
        if problem := policy_problem(password, email=email):
            raise BadInput(f"password {problem}", field="password")
        hashed = await asyncio.to_thread(hash_password, password, cost=config.bcrypt_cost)
        user = await identity.create_user(
            User(
                id=new_id(),
                email=email,
                display_name=check_name(display_name or email, field="displayName"),
                password_hash=hashed,
                created_at=now,
            )
        )
    membership = await identity.put_membership(Membership(user.id, org_id, role, now))
    return user, membership


async def acting_as(identity: IdentityStore, *, email: str, org_id: str) -> Actor:
    """An actor for a user in an org, for CLI operations done on the user's behalf."""
    user = await identity.user_by_email(email.strip().casefold())
    membership = await identity.membership(user.id, org_id) if user else None
    if user is None or membership is None:
        raise NotFound("no such user in that organization")
    return Actor(
        user_id=user.id,
        org_id=org_id,
        role=membership.role,
        token_id="cli",  # noqa: S106  (an audit label, not a secret)
        token_kind=TokenKind.SESSION,
        scope=TokenScope.READ_WRITE,
        client_address="cli",
    )
