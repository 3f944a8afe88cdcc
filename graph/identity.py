"""Identity records and the IdentityStore port.

Identity (users, memberships, credentials, login throttling, the audit log) lives in
SQLAlchemy in every deployment, whatever the graph store is. `graph.sql.identity`
implements this port for SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from graph.model import Page


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    PARTNER_MANAGER = "PARTNER_MANAGER"
    SALES_REP = "SALES_REP"
    READ_ONLY = "READ_ONLY"


class TokenKind(enum.StrEnum):
    SESSION = "SESSION"  # from login; acts with the user's full membership
    API = "API"  # for machine clients; named, scoped, revocable


class TokenScope(enum.StrEnum):
    READ = "READ"
    READ_WRITE = "READ_WRITE"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str  # stored casefolded; unique
    display_name: str
    password_hash: bytes
    created_at: datetime
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    user_id: str
    org_id: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Token:
    """A credential. Only `secret_hash` (SHA-256 of the bearer string) is stored."""

    id: str
    kind: TokenKind
    secret_hash: bytes
    user_id: str
    org_id: str  # the acting org the token is bound to
    scope: TokenScope
    name: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """Failed attempts for one key (an account or a client address) in the window."""

    key: str
    failures: int
    window_start: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    at: datetime
    org_id: str
    action: str
    actor_user_id: str | None = None
    actor_token_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    client_address: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CountAnswer:
    """When a viewer was last given COUNTS-level overlap numbers for one of its
    populations against one partner, and what that population looked like then."""

    viewer_org: str
    partner_org: str
    population: str
    fingerprint: str
    answered_at: datetime


class IdentityStore(Protocol):
    async def apply_schema(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    async def create_user(self, user: User) -> User:
        """Conflict when the email (casefolded) is taken."""
        ...

    async def user_by_email(self, email: str) -> User | None: ...

    async def users_by_id(self, ids: Sequence[str]) -> dict[str, User]: ...

    async def put_membership(self, membership: Membership) -> Membership:
        """Insert or change the user's role in the org."""
        ...

    async def memberships(self, user_id: str) -> list[Membership]: ...

    async def membership(self, user_id: str, org_id: str) -> Membership | None: ...

    async def record_login(self, user_id: str, at: datetime) -> None: ...

    async def create_token(self, token: Token) -> Token: ...

    async def token_by_hash(self, secret_hash: bytes) -> Token | None: ...

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Set last_used_at (callers may rate-limit how often they do this)."""
        ...

    async def revoke_token(
        self, org_id: str, token_id: str, at: datetime, *, owner_id: str | None
    ) -> Token | None:
        """Revoke a token of the org (only `owner_id`'s when given). Revoking twice keeps
        the first time. None when there is no such token in the org (for that owner)."""
        ...

    async def list_tokens(
        self,
        org_id: str,
        user_id: str,
        *,
        kind: TokenKind,
        first: int,
        after: str | None,
        backward: bool = False,
    ) -> Page[Token]:
        """The user's tokens of `kind` in the org, newest first (revoked ones included);
        `backward` as in GraphStore."""
        ...

    async def tokens_by_id(
        self, org_id: str, user_id: str, ids: Sequence[str], *, kind: TokenKind
    ) -> dict[str, Token]:
        """The user's tokens of `kind` in the org among `ids` (revoked ones included), by
        id; ids of other orgs', users' or kinds' tokens are simply absent."""
        ...

    async def throttle_state(self, keys: Sequence[str]) -> dict[str, ThrottleState]: ...

    async def put_throttle_state(self, state: ThrottleState) -> None: ...

    async def clear_throttle(self, key: str) -> None: ...

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def audit_log(
        self, org_id: str, *, first: int, after: str | None, backward: bool = False
    ) -> Page[AuditEntry]:
        """The org's entries, newest first; `backward` as in GraphStore."""
        ...

    async def audit_entries_by_id(self, org_id: str, ids: Sequence[str]) -> dict[str, AuditEntry]:
        """The org's entries among `ids`, by id; other orgs' entries are simply absent."""
        ...

    async def count_answers(self, viewer_org: str, partner_org: str) -> dict[str, CountAnswer]:
        """The viewer's recorded COUNTS answers against the partner, by population."""
        ...

    async def put_count_answers(self, answers: Sequence[CountAnswer]) -> None:
        """Insert or replace, by (viewer_org, partner_org, population)."""
        ...

    async def reset(self) -> None:
        """Delete all identity data. Tests only."""
        ...
