"""Login: e-mail + password (+ org) -> a session token bound to one acting org."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from graph.errors import BadInput, RateLimited, Unauthenticated
from graph.identity import IdentityStore, Membership, Token, TokenKind, TokenScope, User
from resolvers import audit
from resolvers.actor import Actor
from resolvers.auth.config import AuthConfig
from resolvers.auth.passwords import dummy_hash, verify_password
from resolvers.auth.throttle import after_failure, retry_after
from resolvers.auth.tokens import new_token, token_hash
from resolvers.ids import new_id

INVALID = "invalid e-mail, password or organization"


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    actor: Actor
    expires_at: datetime


async def login(
    identity: IdentityStore,
    config: AuthConfig,
    *,
    email: str,
    password: str,
    org_id: str | None,
    client_address: str | None,
    now: datetime,
) -> LoginResult:
    email_key = email.strip().casefold()
    keys = [f"account:{email_key}"] + ([f"address:{client_address}"] if client_address else [])
    states = await identity.throttle_state(keys)
    waits = [w for s in states.values() if (w := retry_after(s, now)) is not None]
    if waits:
        raise RateLimited("too many failed logins; try again later", retry_after=max(waits))

    user = await identity.user_by_email(email_key)
    # Check a dummy hash when the user is unknown, so both paths cost one bcrypt check.
    stored = user.password_hash if user is not None else dummy_hash(config.bcrypt_cost)
    valid = await asyncio.to_thread(verify_password, password, stored)
    membership = await _membership(identity, user, org_id) if valid and user else None
    if user is None or membership is None:
        for key in keys:
            await identity.put_throttle_state(
                after_failure(states.get(key), key, now, config.throttle)
            )
        raise Unauthenticated(INVALID)

    for key in keys:
        if key in states:
            await identity.clear_throttle(key)
    token = new_token(TokenKind.SESSION)
    expires_at = now + config.session_ttl
    record = await identity.create_token(
        Token(
            id=new_id(),
            kind=TokenKind.SESSION,
            secret_hash=token_hash(token),
            user_id=user.id,
            org_id=membership.org_id,
            scope=TokenScope.READ_WRITE,
            name="login",
            created_at=now,
            expires_at=expires_at,
            last_used_at=now,
        )
    )
    await identity.record_login(user.id, now)
    actor = Actor(
        user_id=user.id,
        org_id=membership.org_id,
        role=membership.role,
        token_id=record.id,
        token_kind=TokenKind.SESSION,
        scope=TokenScope.READ_WRITE,
        client_address=client_address,
    )
    await audit.record(identity, actor, "login", now=now, target_type="User", target_id=user.id)
    return LoginResult(token=token, actor=actor, expires_at=expires_at)


async def _membership(identity: IdentityStore, user: User, org_id: str | None) -> Membership | None:
    """The org the user acts for: the one named, or the only one. Never guessed."""
    memberships = await identity.memberships(user.id)
    if org_id is not None:
        return next((m for m in memberships if m.org_id == org_id), None)
    if len(memberships) == 1:
        return memberships[0]
    if not memberships:
        return None
    raise BadInput("you belong to several organizations: name one in `orgId`", field="orgId")
