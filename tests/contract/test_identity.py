"""Contract: the identity store (users, memberships, tokens, throttle, audit log)."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import pytest
from sqlalchemy import exc, text
from ulid import ULID

from graph.errors import BadInput, Conflict, Forbidden, NotFound
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
from graph.sql.engine import create_engine
from graph.sql.identity import SqlIdentityStore
from graph.sql.store import SqlStore
from tests.factories import at, make_org, new_id

_n = itertools.count()


def ulid_at(minutes: int) -> str:
    """A ULID for that moment: ids made this way sort by their minutes."""
    return str(ULID.from_datetime(at(minutes)))


def make_user(email: str | None = None) -> User:
    n = next(_n)
    return User(
        id=new_id(),
        email=email or f"user{n}@example.com",
        display_name=f"User {n}",
        password_hash=b"$2b$04$" + bytes([n % 256]) * 20,
        created_at=at(n),
    )


def make_token(
    user: User,
    org_id: str,
    *,
    kind: TokenKind = TokenKind.API,
    token_id: str | None = None,
    scope: TokenScope = TokenScope.READ,
) -> Token:
    n = next(_n)
    return Token(
        id=token_id or new_id(),
        kind=kind,
        secret_hash=hashlib.sha256(f"secret {n} {new_id()}".encode()).digest(),
        user_id=user.id,
        org_id=org_id,
        scope=scope,
        name=f"token {n}",
        created_at=at(n),
        expires_at=at(n + 60),
    )


def make_entry(org_id: str, minutes: int, **details: str) -> AuditEntry:
    return AuditEntry(
        id=ulid_at(minutes),
        at=at(minutes),
        org_id=org_id,
        action="api_token.create",
        actor_user_id=new_id(),
        actor_token_id=new_id(),
        target_type="ApiToken",
        target_id=new_id(),
        client_address="203.0.113.7",
        details=details,
    )


# users


async def test_user_round_trips_by_email_and_id(identity: SqlIdentityStore) -> None:
    alice, bob = make_user(), make_user()
    assert await identity.create_user(alice) == alice
    await identity.create_user(bob)
    assert await identity.user_by_email(alice.email) == alice
    assert await identity.user_by_email("nobody@example.com") is None
    assert await identity.users_by_id([alice.id, bob.id, "missing"]) == {
        alice.id: alice,
        bob.id: bob,
    }
    assert await identity.users_by_id([]) == {}


async def test_email_is_stored_as_given_and_unique(identity: SqlIdentityStore) -> None:
    await identity.create_user(make_user("ada@example.com"))
    with pytest.raises(Conflict):
        await identity.create_user(make_user("ada@example.com"))
    # the caller casefolds; the store compares exactly
    assert await identity.user_by_email("Ada@example.com") is None


async def test_record_login_sets_last_login(identity: SqlIdentityStore) -> None:
    user = await identity.create_user(make_user())
    await identity.record_login(user.id, at(500))
    found = await identity.user_by_email(user.email)
    assert found is not None
    assert found.last_login_at == at(500)


# memberships


async def test_put_membership_inserts_then_changes_the_role(identity: SqlIdentityStore) -> None:
    user = await identity.create_user(make_user())
    org_a, org_b = sorted([new_id(), new_id()])
    first = Membership(user.id, org_a, Role.SALES_REP, at(1))
    assert await identity.put_membership(first) == first
    await identity.put_membership(Membership(user.id, org_b, Role.ADMIN, at(2)))

    changed = await identity.put_membership(Membership(user.id, org_a, Role.ADMIN, at(3)))

    assert changed == Membership(user.id, org_a, Role.ADMIN, at(1))  # created_at kept
    assert await identity.membership(user.id, org_a) == changed
    assert await identity.membership(user.id, new_id()) is None
    assert await identity.memberships(user.id) == [
        changed,
        Membership(user.id, org_b, Role.ADMIN, at(2)),
    ]
    assert await identity.memberships(new_id()) == []


async def test_membership_needs_an_existing_user(identity: SqlIdentityStore) -> None:
    with pytest.raises(NotFound):
        await identity.put_membership(Membership(new_id(), new_id(), Role.ADMIN, at(1)))


# tokens


async def test_token_round_trips_by_hash(identity: SqlIdentityStore) -> None:
    user = await identity.create_user(make_user())
    token = make_token(user, new_id(), kind=TokenKind.SESSION, scope=TokenScope.READ_WRITE)
    assert await identity.create_token(token) == token
    assert await identity.token_by_hash(token.secret_hash) == token
    assert await identity.token_by_hash(hashlib.sha256(b"other").digest()) is None

    await identity.touch_token(token.id, at(900))

    touched = await identity.token_by_hash(token.secret_hash)
    assert touched is not None
    assert touched.last_used_at == at(900)


async def test_token_secret_is_unique_and_user_must_exist(identity: SqlIdentityStore) -> None:
    user = await identity.create_user(make_user())
    token = await identity.create_token(make_token(user, new_id()))
    clash = make_token(user, token.org_id)
    with pytest.raises(Conflict):
        await identity.create_token(replace(clash, secret_hash=token.secret_hash))
    with pytest.raises(NotFound):
        await identity.create_token(make_token(make_user(), token.org_id))


async def test_revoke_is_scoped_by_org_and_owner(identity: SqlIdentityStore) -> None:
    owner, other = await identity.create_user(make_user()), await identity.create_user(make_user())
    org, other_org = new_id(), new_id()
    token = await identity.create_token(make_token(owner, org))

    assert await identity.revoke_token(other_org, token.id, at(10), owner_id=None) is None
    assert await identity.revoke_token(org, token.id, at(10), owner_id=other.id) is None
    assert await identity.revoke_token(org, new_id(), at(10), owner_id=None) is None
    unchanged = await identity.token_by_hash(token.secret_hash)
    assert unchanged is not None
    assert unchanged.revoked_at is None

    revoked = await identity.revoke_token(org, token.id, at(11), owner_id=owner.id)
    assert revoked is not None
    assert revoked.revoked_at == at(11)
    assert revoked == replace(token, revoked_at=at(11))


async def test_org_wide_revoke_and_revoking_twice_keeps_the_first_time(
    identity: SqlIdentityStore,
) -> None:
    owner = await identity.create_user(make_user())
    token = await identity.create_token(make_token(owner, new_id()))
    first = await identity.revoke_token(token.org_id, token.id, at(20), owner_id=None)
    again = await identity.revoke_token(token.org_id, token.id, at(30), owner_id=owner.id)
    assert first is not None
    assert again is not None
    assert first.revoked_at == again.revoked_at == at(20)
    stored = await identity.token_by_hash(token.secret_hash)
    assert stored is not None
    assert stored.revoked_at == at(20)


async def test_list_tokens_pages_newest_first_within_org_user_and_kind(
    identity: SqlIdentityStore,
) -> None:
    user, other = await identity.create_user(make_user()), await identity.create_user(make_user())
    org = new_id()
    mine = [
        await identity.create_token(make_token(user, org, token_id=ulid_at(m)))
        for m in (5, 1, 4, 2, 3)
    ]
    # noise: another kind, another org, another user
    session = await identity.create_token(
        make_token(user, org, kind=TokenKind.SESSION, token_id=ulid_at(6))
    )
    await identity.create_token(make_token(user, new_id(), token_id=ulid_at(7)))
    await identity.create_token(make_token(other, org, token_id=ulid_at(8)))
    newest_first = sorted(mine, key=lambda t: t.id, reverse=True)

    page1 = await identity.list_tokens(org, user.id, kind=TokenKind.API, first=2, after=None)
    page2 = await identity.list_tokens(
        org, user.id, kind=TokenKind.API, first=2, after=page1.cursors[-1]
    )
    page3 = await identity.list_tokens(
        org, user.id, kind=TokenKind.API, first=2, after=page2.cursors[-1]
    )

    assert page1.items == newest_first[:2]
    assert page1.cursors == [t.id for t in newest_first[:2]]
    assert page1.has_next
    assert page2.items == newest_first[2:4]
    assert page2.has_next
    assert page3.items == newest_first[4:]
    assert not page3.has_next
    everything = await identity.list_tokens(org, user.id, kind=TokenKind.API, first=10, after=None)
    assert everything.items == newest_first
    assert not everything.has_next
    sessions = await identity.list_tokens(
        org, user.id, kind=TokenKind.SESSION, first=10, after=None
    )
    assert sessions.items == [session]
    empty = await identity.list_tokens(org, user.id, kind=TokenKind.API, first=0, after=None)
    assert empty.items == []
    assert empty.has_next
    with pytest.raises(BadInput):
        await identity.list_tokens(org, user.id, kind=TokenKind.API, first=-1, after=None)


async def test_tokens_by_id_keep_to_org_user_and_kind(identity: SqlIdentityStore) -> None:
    user, other = await identity.create_user(make_user()), await identity.create_user(make_user())
    org = new_id()
    mine = await identity.create_token(make_token(user, org))
    revoked = await identity.create_token(make_token(user, org))
    await identity.revoke_token(org, revoked.id, at(30), owner_id=None)
    session = await identity.create_token(make_token(user, org, kind=TokenKind.SESSION))
    elsewhere = await identity.create_token(make_token(user, new_id()))
    theirs = await identity.create_token(make_token(other, org))
    ids = [mine.id, revoked.id, session.id, elsewhere.id, theirs.id, new_id()]

    found = await identity.tokens_by_id(org, user.id, ids, kind=TokenKind.API)

    assert found == {mine.id: mine, revoked.id: replace(revoked, revoked_at=at(30))}
    sessions = await identity.tokens_by_id(org, user.id, ids, kind=TokenKind.SESSION)
    assert sessions == {session.id: session}
    assert await identity.tokens_by_id(org, other.id, ids, kind=TokenKind.API) == {
        theirs.id: theirs
    }
    assert await identity.tokens_by_id(org, user.id, [], kind=TokenKind.API) == {}


# login throttle


async def test_throttle_state_upserts_and_clears(identity: SqlIdentityStore) -> None:
    account, address = "account:ada@example.com", "address:203.0.113.7"
    assert await identity.throttle_state([account, address]) == {}
    assert await identity.throttle_state([]) == {}

    first = ThrottleState(account, failures=1, window_start=at(0))
    await identity.put_throttle_state(first)
    assert await identity.throttle_state([account, address]) == {account: first}

    locked = ThrottleState(account, failures=5, window_start=at(1), locked_until=at(16))
    other = ThrottleState(address, failures=2, window_start=at(2))
    await identity.put_throttle_state(locked)
    await identity.put_throttle_state(other)
    assert await identity.throttle_state([account, address, "missing"]) == {
        account: locked,
        address: other,
    }

    await identity.clear_throttle(account)
    await identity.clear_throttle("missing")  # clearing nothing is fine
    assert await identity.throttle_state([account, address]) == {address: other}


# audit log


async def test_audit_log_is_newest_first_paged_and_scoped_by_org(
    identity: SqlIdentityStore,
) -> None:
    org_a, org_b = new_id(), new_id()
    a_entries = [make_entry(org_a, m, reason=f"r{m}") for m in (3, 1, 5, 2, 4)]
    b_entry = make_entry(org_b, 6)
    for entry in [*a_entries, b_entry]:
        await identity.append_audit(entry)
    newest_first = sorted(a_entries, key=lambda e: e.id, reverse=True)

    page1 = await identity.audit_log(org_a, first=3, after=None)
    page2 = await identity.audit_log(org_a, first=3, after=page1.cursors[-1])

    assert page1.items == newest_first[:3]
    assert page1.cursors == [e.id for e in newest_first[:3]]
    assert page1.has_next
    assert page2.items == newest_first[3:]
    assert not page2.has_next
    assert page2.items[0].details == {"reason": "r2"}
    b_log = await identity.audit_log(org_b, first=10, after=None)
    assert b_log.items == [b_entry]
    # a cursor from org A's log shows org B nothing of A's
    b_after = await identity.audit_log(org_b, first=10, after=ulid_at(100))
    assert b_after.items == [b_entry]
    assert (await identity.audit_log(new_id(), first=10, after=None)).items == []
    with pytest.raises(BadInput):
        await identity.audit_log(org_a, first=-1, after=None)


async def test_audit_entries_by_id_keep_to_the_org(identity: SqlIdentityStore) -> None:
    org_a, org_b = new_id(), new_id()
    a1, a2, b1 = make_entry(org_a, 1, n="1"), make_entry(org_a, 2), make_entry(org_b, 3)
    for entry in (a1, a2, b1):
        await identity.append_audit(entry)
    ids = [a1.id, a2.id, b1.id, ulid_at(99), a1.id]

    assert await identity.audit_entries_by_id(org_a, ids) == {a1.id: a1, a2.id: a2}
    assert await identity.audit_entries_by_id(org_b, ids) == {b1.id: b1}
    assert await identity.audit_entries_by_id(new_id(), ids) == {}
    assert await identity.audit_entries_by_id(org_a, []) == {}


async def test_audit_entry_with_only_required_fields(identity: SqlIdentityStore) -> None:
    entry = AuditEntry(id=ulid_at(1), at=at(1), org_id=new_id(), action="login")
    await identity.append_audit(entry)
    assert (await identity.audit_log(entry.org_id, first=1, after=None)).items == [entry]
    with pytest.raises(Conflict):
        await identity.append_audit(entry)


async def test_audit_log_is_append_only(identity: SqlIdentityStore, identity_url: str) -> None:
    assert not any(
        hasattr(identity, name) for name in ("update_audit", "delete_audit", "remove_audit")
    )
    entry = make_entry(new_id(), 1)
    await identity.append_audit(entry)
    if identity.backend != "postgresql":
        return
    # PostgreSQL: a trigger refuses UPDATE and DELETE whoever asks
    engine = create_engine(identity_url)
    try:
        for statement in (
            "UPDATE audit_log SET action = 'forged' WHERE id = :id",
            "DELETE FROM audit_log WHERE id = :id",
        ):
            with pytest.raises(exc.DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement), {"id": entry.id})
    finally:
        await engine.dispose()
    assert (await identity.audit_log(entry.org_id, first=1, after=None)).items == [entry]


# reset and a database shared with the graph store


async def test_reset_needs_allow_reset(identity: SqlIdentityStore, identity_url: str) -> None:
    guarded = SqlIdentityStore(identity_url)
    try:
        with pytest.raises(Forbidden):
            await guarded.reset()
    finally:
        await guarded.close()


async def test_graph_and_identity_share_a_database(
    identity: SqlIdentityStore, identity_url: str
) -> None:
    graph = SqlStore(identity_url, allow_reset=True)
    try:
        await graph.apply_schema()  # the same history again: a no-op
        await graph.reset()
        org = await graph.create_org(make_org("Shared"))
        user = await identity.create_user(make_user())
        await identity.put_membership(Membership(user.id, org.id, Role.ADMIN, at(1)))
        token = await identity.create_token(make_token(user, org.id))
        await identity.append_audit(make_entry(org.id, 1))

        await graph.reset()  # the graph's tables only
        assert await identity.users_by_id([user.id]) == {user.id: user}
        assert await identity.token_by_hash(token.secret_hash) == token
        assert len((await identity.audit_log(org.id, first=5, after=None)).items) == 1

        org = await graph.create_org(make_org("Again"))
        await identity.reset()  # the identity tables only, children first
        assert await identity.users_by_id([user.id]) == {}
        assert await identity.token_by_hash(token.secret_hash) is None
        assert (await identity.audit_log(org.id, first=5, after=None)).items == []
        assert await graph.get_orgs([org.id]) == {org.id: org}
        await graph.reset()
    finally:
        await graph.close()


async def test_count_answers_upsert_by_viewer_partner_population(
    identity: SqlIdentityStore,
) -> None:
    first = CountAnswer("v", "p", "CUSTOMER", "10:x", at(1))
    other = CountAnswer("v", "q", "CUSTOMER", "10:x", at(1))
    await identity.put_count_answers([first, other])
    assert await identity.count_answers("v", "p") == {"CUSTOMER": first}
    newer = CountAnswer("v", "p", "CUSTOMER", "11:y", at(2))
    await identity.put_count_answers([newer])
    assert await identity.count_answers("v", "p") == {"CUSTOMER": newer}
    assert await identity.count_answers("p", "v") == {}
    await identity.put_count_answers([])
