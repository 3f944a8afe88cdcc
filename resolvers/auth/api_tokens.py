"""API tokens for machine clients: named, scoped, optionally expiring, revocable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graph.errors import BadInput, Forbidden, NotFound
from graph.identity import IdentityStore, Role, Token, TokenKind, TokenScope
from graph.model import Page
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.auth.tokens import new_token, token_hash
from resolvers.ids import new_id
from resolvers.timestamps import in_range

MAX_NAME_LENGTH = 100


async def create_api_token(
    identity: IdentityStore,
    actor: Actor,
    *,
    name: str,
    scope: TokenScope,
    expires_at: datetime | None,
    now: datetime,
) -> tuple[str, Token]:
    """Returns the bearer string (shown once, never stored) and the stored record."""
    actor.require(Permission.MANAGE_TOKENS)
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"name must be 1 to {MAX_NAME_LENGTH} characters", field="name")
    if expires_at is not None:
        expires_at = in_range(expires_at, "expiresAt")
        if expires_at <= now:
            raise BadInput("expiresAt must be in the future", field="expiresAt")
    if scope is TokenScope.READ_WRITE and actor.scope is TokenScope.READ:
        raise Forbidden("a read-only token cannot mint a read-write token")
    secret = new_token(TokenKind.API)
    record = await identity.create_token(
        Token(
            id=new_id(),
            kind=TokenKind.API,
            secret_hash=token_hash(secret),
            user_id=actor.user_id,
            org_id=actor.org_id,
            scope=scope,
            name=name,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await audit.record(
        identity, actor, "api_token.create", now=now, target_type="ApiToken", target_id=record.id
    )
    return secret, record


async def revoke_api_token(
    identity: IdentityStore, actor: Actor, *, token_id: str, now: datetime
) -> Token:
    """Users revoke their own tokens; an org ADMIN revokes any of the org's tokens."""
    actor.require(Permission.MANAGE_TOKENS)
    owner = None if actor.role is Role.ADMIN else actor.user_id
    revoked = await identity.revoke_token(actor.org_id, token_id, now, owner_id=owner)
    if revoked is None:
        raise NotFound("no such API token")
    await audit.record(
        identity, actor, "api_token.revoke", now=now, target_type="ApiToken", target_id=token_id
    )
    return revoked


async def list_api_tokens(
    identity: IdentityStore, actor: Actor, *, first: int, after: str | None, backward: bool = False
) -> Page[Token]:
    """The viewer's own API tokens in the acting org, newest first."""
    return await identity.list_tokens(
        actor.org_id,
        actor.user_id,
        kind=TokenKind.API,
        first=first,
        after=after,
        backward=backward,
    )


async def get_api_tokens(
    identity: IdentityStore, actor: Actor, ids: Sequence[str]
) -> dict[str, Token]:
    """The viewer's own API tokens among `ids`, by id: what list_api_tokens shows (revoked
    ones included), nothing more. Another user's, another org's and a session token are
    absent, exactly like a missing one."""
    return await identity.tokens_by_id(actor.org_id, actor.user_id, ids, kind=TokenKind.API)
