"""SqlIdentityStore: the IdentityStore port over SQLAlchemy (SQLite or PostgreSQL).

It may share one database with SqlStore (the embedded default keeps graph and identity in
one SQLite file): both apply the same migration history, and each store's reset() empties
only its own tables. Every call is one unit of work; errors leave through graph.sql.errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import Forbidden, NotFound
from graph.identity import (
    AuditEntry,
    CountAnswer,
    Membership,
    Role,
    ThrottleState,
    Token,
    TokenKind,
    TokenScope,
    User,
)
from graph.model import Page
from graph.paging import check_first, page
from graph.sql.coltypes import UTCDateTime
from graph.sql.database import SqlDatabase
from graph.sql.keyset import by_key
from graph.sql.tables import (
    IDENTITY_TABLES,
    AuditRow,
    CountAnswerRow,
    MembershipRow,
    ThrottleRow,
    TokenRow,
    UserRow,
    metadata,
)

T = TypeVar("T")


class SqlIdentityStore(SqlDatabase):
    # probing resistance

    async def count_answers(self, viewer_org: str, partner_org: str) -> dict[str, CountAnswer]:
        query = select(CountAnswerRow).where(
            CountAnswerRow.viewer_org == viewer_org, CountAnswerRow.partner_org == partner_org
        )
        async with self._unit() as session:
            return {
                row.population: CountAnswer(
                    row.viewer_org,
                    row.partner_org,
                    row.population,
                    row.fingerprint,
                    row.answered_at,
                )
                for row in await session.scalars(query)
            }

    async def put_count_answers(self, answers: Sequence[CountAnswer]) -> None:
        if not answers:
            return
        insert = postgresql.insert if self._backend == "postgresql" else sqlite.insert
        statement = insert(CountAnswerRow).values(
            [
                {
                    "viewer_org": a.viewer_org,
                    "partner_org": a.partner_org,
                    "population": a.population,
                    "fingerprint": a.fingerprint,
                    "answered_at": a.answered_at,
                }
                for a in answers
            ]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["viewer_org", "partner_org", "population"],
            set_={
                "fingerprint": statement.excluded.fingerprint,
                "answered_at": statement.excluded.answered_at,
            },
        )
        async with self._unit(write=True) as session:
            await session.execute(statement)

    async def reset(self) -> None:
        if not self._allow_reset:
            raise Forbidden("reset() deletes everything; open the store with allow_reset=True")
        tables = [t for t in reversed(metadata.sorted_tables) if t.name in IDENTITY_TABLES]
        async with self._unit(write=True) as session:
            if self._backend == "postgresql":  # the audit trigger refuses DELETE, not this
                await session.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)}"))
            else:
                for table in tables:  # children before parents
                    await session.execute(delete(table))

    # users and memberships

    async def create_user(self, user: User) -> User:
        async with self._unit(write=True, conflict="the email is taken") as session:
            session.add(
                UserRow(
                    id=user.id,
                    email=user.email,
                    display_name=user.display_name,
                    password_hash=user.password_hash,
                    created_at=user.created_at,
                    last_login_at=user.last_login_at,
                )
            )
        return user

    async def user_by_email(self, email: str) -> User | None:
        async with self._unit() as session:
            row = (await session.scalars(select(UserRow).where(UserRow.email == email))).first()
        return None if row is None else _user(row)

    async def users_by_id(self, ids: Sequence[str]) -> dict[str, User]:
        if not ids:
            return {}
        async with self._unit() as session:
            rows = await session.scalars(select(UserRow).where(UserRow.id.in_(set(ids))))
            return {row.id: _user(row) for row in rows}

    async def record_login(self, user_id: str, at: datetime) -> None:
        statement = (
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(last_login_at=at)
            .execution_options(synchronize_session=False)
        )
        async with self._unit(write=True) as session:
            await session.execute(statement)

    async def put_membership(self, membership: Membership) -> Membership:
        """Insert, or change the role of an existing membership (keeping its created_at)."""
        insert = postgresql.insert if self._backend == "postgresql" else sqlite.insert
        statement = insert(MembershipRow).values(
            user_id=membership.user_id,
            org_id=membership.org_id,
            role=membership.role.value,
            created_at=membership.created_at,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=["user_id", "org_id"], set_={"role": statement.excluded.role}
        ).returning(MembershipRow)
        async with self._unit(write=True) as session:
            await _require_user(session, membership.user_id)
            row = (await session.scalars(upsert)).one()
        return _membership(row)

    async def memberships(self, user_id: str) -> list[Membership]:
        query = (
            select(MembershipRow)
            .where(MembershipRow.user_id == user_id)
            .order_by(MembershipRow.org_id)
        )
        async with self._unit() as session:
            rows = await session.scalars(query)
            return [_membership(row) for row in rows]

    async def membership(self, user_id: str, org_id: str) -> Membership | None:
        async with self._unit() as session:
            row = await session.get(MembershipRow, (user_id, org_id))
        return None if row is None else _membership(row)

    # tokens

    async def create_token(self, token: Token) -> Token:
        conflict = "the token id or secret is taken"
        async with self._unit(write=True, conflict=conflict) as session:
            await _require_user(session, token.user_id)
            session.add(
                TokenRow(
                    id=token.id,
                    kind=token.kind.value,
                    secret_hash=token.secret_hash,
                    user_id=token.user_id,
                    org_id=token.org_id,
                    scope=token.scope.value,
                    name=token.name,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    revoked_at=token.revoked_at,
                    last_used_at=token.last_used_at,
                )
            )
        return token

    async def token_by_hash(self, secret_hash: bytes) -> Token | None:
        query = select(TokenRow).where(TokenRow.secret_hash == secret_hash)
        async with self._unit() as session:
            row = (await session.scalars(query)).first()
        return None if row is None else _token(row)

    async def touch_token(self, token_id: str, at: datetime) -> None:
        statement = (
            update(TokenRow)
            .where(TokenRow.id == token_id)
            .values(last_used_at=at)
            .execution_options(synchronize_session=False)
        )
        async with self._unit(write=True) as session:
            await session.execute(statement)

    async def revoke_token(
        self, org_id: str, token_id: str, at: datetime, *, owner_id: str | None
    ) -> Token | None:
        statement = (
            update(TokenRow)
            .where(TokenRow.id == token_id, TokenRow.org_id == org_id)
            .values(revoked_at=func.coalesce(TokenRow.revoked_at, literal(at, UTCDateTime())))
            .returning(TokenRow)
            .execution_options(synchronize_session=False)
        )
        if owner_id is not None:
            statement = statement.where(TokenRow.user_id == owner_id)
        async with self._unit(write=True) as session:
            row = (await session.scalars(statement)).one_or_none()
        return None if row is None else _token(row)

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
        """The user's tokens of `kind` in the org, newest first (revoked ones included)."""
        check_first(first)
        query = select(TokenRow).where(
            TokenRow.org_id == org_id, TokenRow.user_id == user_id, TokenRow.kind == kind.value
        )
        query = by_key(
            query, TokenRow.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return page([_token(row) for row in rows], first, lambda t: t.id, backward=backward)

    async def tokens_by_id(
        self, org_id: str, user_id: str, ids: Sequence[str], *, kind: TokenKind
    ) -> dict[str, Token]:
        if not ids:
            return {}
        query = select(TokenRow).where(
            TokenRow.id.in_(set(ids)),
            TokenRow.org_id == org_id,
            TokenRow.user_id == user_id,
            TokenRow.kind == kind.value,
        )
        async with self._unit() as session:
            return {row.id: _token(row) for row in await session.scalars(query)}

    # login throttling

    async def throttle_state(self, keys: Sequence[str]) -> dict[str, ThrottleState]:
        if not keys:
            return {}
        query = select(ThrottleRow).where(ThrottleRow.key.in_(set(keys)))
        async with self._unit() as session:
            rows = await session.scalars(query)
            return {row.key: _throttle(row) for row in rows}

    async def put_throttle_state(self, state: ThrottleState) -> None:
        insert = postgresql.insert if self._backend == "postgresql" else sqlite.insert
        statement = insert(ThrottleRow).values(
            key=state.key,
            failures=state.failures,
            window_start=state.window_start,
            locked_until=state.locked_until,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": statement.excluded.failures,
                "window_start": statement.excluded.window_start,
                "locked_until": statement.excluded.locked_until,
            },
        )
        async with self._unit(write=True) as session:
            await session.execute(statement)

    async def clear_throttle(self, key: str) -> None:
        async with self._unit(write=True) as session:
            await session.execute(delete(ThrottleRow).where(ThrottleRow.key == key))

    # the audit log: append and read, nothing else

    async def append_audit(self, entry: AuditEntry) -> None:
        conflict = f"audit entry {entry.id} already exists"
        async with self._unit(write=True, conflict=conflict) as session:
            session.add(
                AuditRow(
                    id=entry.id,
                    at=entry.at,
                    org_id=entry.org_id,
                    action=entry.action,
                    actor_user_id=entry.actor_user_id,
                    actor_token_id=entry.actor_token_id,
                    target_type=entry.target_type,
                    target_id=entry.target_id,
                    client_address=entry.client_address,
                    details=dict(entry.details),
                )
            )

    async def audit_log(
        self, org_id: str, *, first: int, after: str | None, backward: bool = False
    ) -> Page[AuditEntry]:
        check_first(first)
        query = by_key(
            select(AuditRow).where(AuditRow.org_id == org_id),
            AuditRow.id,
            descending=True,
            first=first,
            after=after,
            backward=backward,
        )
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return page([_audit(row) for row in rows], first, lambda e: e.id, backward=backward)

    async def audit_entries_by_id(self, org_id: str, ids: Sequence[str]) -> dict[str, AuditEntry]:
        if not ids:
            return {}
        query = select(AuditRow).where(AuditRow.id.in_(set(ids)), AuditRow.org_id == org_id)
        async with self._unit() as session:
            return {row.id: _audit(row) for row in await session.scalars(query)}


async def _require_user(session: AsyncSession, user_id: str) -> None:
    """NotFound for a missing user, before the foreign key would fail less legibly.
    (Users are never deleted, so nothing can slip in between.)"""
    if await session.get(UserRow, user_id) is None:
        raise NotFound(f"no user {user_id}")


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        password_hash=bytes(row.password_hash),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def _membership(row: MembershipRow) -> Membership:
    return Membership(
        user_id=row.user_id, org_id=row.org_id, role=Role(row.role), created_at=row.created_at
    )


def _token(row: TokenRow) -> Token:
    return Token(
        id=row.id,
        kind=TokenKind(row.kind),
        secret_hash=bytes(row.secret_hash),
        user_id=row.user_id,
        org_id=row.org_id,
        scope=TokenScope(row.scope),
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _throttle(row: ThrottleRow) -> ThrottleState:
    return ThrottleState(
        key=row.key,
        failures=row.failures,
        window_start=row.window_start,
        locked_until=row.locked_until,
    )


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        org_id=row.org_id,
        action=row.action,
        actor_user_id=row.actor_user_id,
        actor_token_id=row.actor_token_id,
        target_type=row.target_type,
        target_id=row.target_id,
        client_address=row.client_address,
        details=dict(row.details),
    )
