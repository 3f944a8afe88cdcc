"""Bearer authentication: an Authorization header -> the acting principal."""

from __future__ import annotations

from datetime import datetime

from graph.errors import Unauthenticated
from graph.identity import IdentityStore
from resolvers.actor import Actor
from resolvers.auth.config import AuthConfig
from resolvers.auth.tokens import looks_like_token, token_hash

INVALID_TOKEN = "invalid, expired or revoked token"  # noqa: S105  (a message)


def bearer_token(authorization: str | None) -> str | None:
    """The token in an `Authorization: Bearer ...` header; None when there is no header.
    A header of any other form is an error, never silently anonymous."""
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("use Authorization: Bearer <token>")
    return value.strip()


async def authenticate(
    identity: IdentityStore,
    config: AuthConfig,
    *,
    token: str,
    client_address: str | None,
    now: datetime,
) -> Actor:
    if not looks_like_token(token):
        raise Unauthenticated(INVALID_TOKEN)
    record = await identity.token_by_hash(token_hash(token))
    if (
        record is None
        or record.revoked_at is not None
        or (record.expires_at is not None and record.expires_at <= now)
    ):
        raise Unauthenticated(INVALID_TOKEN)
    # The role is read at every use: a membership changed or removed takes effect at once.
    membership = await identity.membership(record.user_id, record.org_id)
    if membership is None:
        raise Unauthenticated(INVALID_TOKEN)
    if record.last_used_at is None or now - record.last_used_at >= config.touch_interval:
        await identity.touch_token(record.id, now)
    return Actor(
        user_id=record.user_id,
        org_id=record.org_id,
        role=membership.role,
        token_id=record.id,
        token_kind=record.kind,
        scope=record.scope,
        client_address=client_address,
    )
