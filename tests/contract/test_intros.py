"""Contract: blocks, org-level introductions (one open per pair, also under concurrency;
visibility by role; compare-and-set moves; acceptance with its partnership and INTRODUCED
edge; expiry; cooling-off and rate-limit reads) and account-level asks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from graph.errors import Conflict
from graph.intros import (
    AskKind,
    AskStatus,
    IntroducedEdge,
    Introduction,
    IntroStatus,
)
from graph.model import KeyState, Org, Partnership, PartnershipStatus
from graph.port import GraphStore
from tests.factories import (
    at,
    link,
    make_ask,
    make_introduction,
    make_org,
    make_upsert,
    new_id,
)

V1 = KeyState()
REQUESTED, FORWARDED = IntroStatus.REQUESTED, IntroStatus.FORWARDED
ACCEPTED, DECLINED = IntroStatus.ACCEPTED, IntroStatus.DECLINED
EXPIRED, WITHDRAWN = IntroStatus.EXPIRED, IntroStatus.WITHDRAWN


@dataclass
class World:
    a: Org  # requester
    b: Org  # target
    c: Org  # another target
    v: Org  # broker (the vendor both partner with)
    x: Org  # a third org
    acc: dict[str, str]  # account ids by crm_id ("a-1", "a-2", "b-1", "b-2")


async def world(store: GraphStore) -> World:
    a, b, c, v, x = (make_org(n) for n in ("A", "B", "C", "V", "X"))
    for org in (a, b, c, v, x):
        await store.create_org(org)
    acc: dict[str, str] = {}
    for org, prefix in ((a, "a"), (b, "b")):
        results = await store.upsert_accounts(
            org.id,
            [make_upsert(f"{prefix}-1", "acme.com"), make_upsert(f"{prefix}-2", "globex.com")],
            expected_state=V1,
            at=at(0),
        )
        acc.update({r.crm_id: r.account_id for r in results})
    return World(a, b, c, v, x, acc)


def ids(n: int) -> list[str]:
    """n fresh ids in ascending order."""
    return sorted(new_id() for _ in range(n))


def forwarded(i: Introduction, when: int = 5) -> Introduction:
    return replace(i, status=FORWARDED, forwarded_at=at(when), updated_at=at(when), note="ok")


def decided(
    i: Introduction, status: IntroStatus, by: Org, when: int = 6, note: str | None = None
) -> Introduction:
    return replace(
        i, status=status, decided_at=at(when), decided_by_org=by.id, updated_at=at(when), note=note
    )


# --- blocks -------------------------------------------------------------------------------


async def test_block_and_unblock(store: GraphStore) -> None:
    w = await world(store)
    assert not await store.blocked_between(w.a.id, w.b.id)
    assert await store.set_block(w.a.id, w.b.id, True, at=at(1)) is True
    assert await store.set_block(w.a.id, w.b.id, True, at=at(2)) is False
    assert await store.blocked_between(w.a.id, w.b.id)
    assert await store.blocked_between(w.b.id, w.a.id)
    assert not await store.blocked_between(w.a.id, w.c.id)
    await store.set_block(w.a.id, w.x.id, True, at=at(3))
    assert await store.blocked_orgs(w.a.id) == sorted([w.b.id, w.x.id])
    assert await store.blocked_orgs(w.b.id) == []
    assert await store.set_block(w.b.id, w.a.id, True, at=at(4)) is True
    assert await store.blocked_orgs(w.b.id) == [w.a.id]
    assert await store.set_block(w.a.id, w.b.id, False, at=at(5)) is True
    assert await store.set_block(w.a.id, w.b.id, False, at=at(6)) is False
    assert await store.set_block(w.c.id, w.v.id, False, at=at(6)) is False
    assert await store.blocked_between(w.a.id, w.b.id)  # b still blocks a
    await store.set_block(w.b.id, w.a.id, False, at=at(7))
    assert not await store.blocked_between(w.b.id, w.a.id)
    assert await store.blocked_orgs(w.a.id) == [w.x.id]


# --- introductions: insert, uniqueness per pair ------------------------------------------


async def test_insert_and_get_round_trip(store: GraphStore) -> None:
    w = await world(store)
    i = make_introduction(w.a, w.b, created=at(1), message="Hello, B")
    assert await store.insert_introduction(i) == i
    assert await store.get_introductions(w.a.id, [i.id, "nope"]) == {i.id: i}
    assert await store.get_introductions(w.b.id, [i.id]) == {i.id: i}
    assert await store.get_introductions(w.x.id, [i.id]) == {}
    assert await store.get_introductions(w.a.id, []) == {}
    full = replace(
        forwarded(make_introduction(w.a, w.c, broker=w.v, created=at(2)), when=3),
        note="forwarding",
    )
    await store.insert_introduction(full)
    assert await store.get_introductions(w.c.id, [full.id]) == {full.id: full}


async def test_one_open_introduction_per_pair(store: GraphStore) -> None:
    w = await world(store)
    first = make_introduction(w.a, w.b, created=at(1))
    await store.insert_introduction(first)
    for clash in (
        make_introduction(w.a, w.b, created=at(2)),
        make_introduction(w.b, w.a, created=at(2)),
        make_introduction(w.a, w.b, broker=w.v, created=at(2)),
        replace(make_introduction(w.a, w.c, created=at(2)), id=first.id),  # id taken
    ):
        with pytest.raises(Conflict):
            await store.insert_introduction(clash)
    other = make_introduction(w.a, w.c, broker=w.v, created=at(3), expires=at(100_000))
    await store.insert_introduction(other)  # another pair: fine
    # FORWARDED is still open.
    moved = await store.update_introduction(other, forwarded(other))
    assert moved is not None
    with pytest.raises(Conflict):
        await store.insert_introduction(make_introduction(w.c, w.a, created=at(6)))
    page = await store.list_introductions(w.a.id, role="requester", first=10)
    assert sorted(i.id for i in page.items) == sorted([first.id, other.id])

    # Each closing status releases the pair.
    current = first
    for status, actor in ((DECLINED, w.b), (WITHDRAWN, w.a)):
        closed = await store.update_introduction(current, decided(current, status, actor))
        assert closed is not None
        assert closed.status is status
        current = make_introduction(w.b, w.a, created=at(10))
        assert await store.insert_introduction(current) == current
    [expired] = await store.expire_introductions(current.expires_at, limit=10)
    assert expired.id == current.id
    again = make_introduction(w.a, w.b, created=at(40))
    assert await store.insert_introduction(again) == again


async def test_concurrent_inserts_for_one_pair_one_wins(store: GraphStore) -> None:
    w = await world(store)
    attempts = [
        make_introduction(w.a, w.b, created=at(1)) if n % 2 else make_introduction(w.b, w.a)
        for n in range(30)
    ]
    results = await asyncio.gather(
        *(store.insert_introduction(i) for i in attempts), return_exceptions=True
    )
    stored = [r for r in results if isinstance(r, Introduction)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(stored) == 1
    assert len(errors) == 29
    assert all(isinstance(e, Conflict) for e in errors)
    found = await store.get_introductions(w.a.id, [i.id for i in attempts])
    assert found == {stored[0].id: stored[0]}


# --- visibility and listing ---------------------------------------------------------------


async def test_brokered_request_reaches_the_target_only_when_forwarded(
    store: GraphStore,
) -> None:
    w = await world(store)
    i = make_introduction(w.a, w.b, broker=w.v, created=at(1))
    await store.insert_introduction(i)
    assert await store.get_introductions(w.a.id, [i.id]) == {i.id: i}
    assert await store.get_introductions(w.v.id, [i.id]) == {i.id: i}
    assert await store.get_introductions(w.b.id, [i.id]) == {}
    assert await store.get_introductions(w.x.id, [i.id]) == {}
    assert (await store.list_introductions(w.b.id, role="target", first=10)).items == []
    f = await store.update_introduction(i, forwarded(i))
    assert f == forwarded(i)
    assert await store.get_introductions(w.b.id, [i.id]) == {i.id: f}
    assert (await store.list_introductions(w.b.id, role="target", first=10)).items == [f]
    assert await store.get_introductions(w.x.id, [i.id]) == {}
    # Declined by the broker before forwarding: the target never learns of it.
    j = make_introduction(w.a, w.c, broker=w.v, created=at(2))
    await store.insert_introduction(j)
    declined = await store.update_introduction(j, decided(j, DECLINED, w.v))
    assert declined is not None
    assert await store.get_introductions(w.c.id, [j.id]) == {}
    assert (await store.list_introductions(w.c.id, role="target", first=10)).items == []
    assert await store.get_introductions(w.v.id, [j.id]) == {j.id: declined}


async def test_list_by_role_newest_first_with_paging_and_status_filter(
    store: GraphStore,
) -> None:
    w = await world(store)
    d, e = make_org("D"), make_org("E")
    await store.create_org(d)
    await store.create_org(e)
    i1, i2, i3, i4, i5 = ids(5)
    direct = make_introduction(w.a, w.b, iid=i1, created=at(1))
    brokered = make_introduction(w.a, w.c, broker=w.v, iid=i2, created=at(2))
    incoming = make_introduction(w.x, w.a, iid=i3, created=at(3))
    fwd = make_introduction(w.a, d, broker=w.v, iid=i4, created=at(4))
    gone = make_introduction(w.a, e, iid=i5, created=at(5))
    for i in (direct, brokered, incoming, fwd, gone):
        await store.insert_introduction(i)
    fwd = forwarded(fwd, when=6)
    assert await store.update_introduction(replace(fwd, status=REQUESTED), fwd) == fwd
    gone = decided(gone, DECLINED, e, when=7)
    assert await store.update_introduction(replace(gone, status=REQUESTED), gone) == gone

    async def listed(org: Org, role: str, **kwargs: object) -> list[str]:
        page = await store.list_introductions(org.id, role=role, first=10, **kwargs)  # type: ignore[arg-type]
        return [i.id for i in page.items]

    assert await listed(w.a, "requester") == [i5, i4, i2, i1]
    assert await listed(w.a, "target") == [i3]
    assert await listed(w.a, "broker") == []
    assert await listed(w.v, "broker") == [i4, i2]
    assert await listed(w.v, "requester") == []
    assert await listed(w.c, "target") == []  # brokered, not forwarded
    assert await listed(d, "target") == [i4]
    assert await listed(e, "target") == [i5]
    assert await listed(w.x, "requester") == [i3]
    assert await listed(w.x, "target") == []
    assert await listed(w.a, "requester", statuses=[REQUESTED]) == [i2, i1]
    assert await listed(w.a, "requester", statuses=[FORWARDED, DECLINED]) == [i5, i4]
    assert await listed(w.a, "requester", statuses=[ACCEPTED]) == []

    first = await store.list_introductions(w.a.id, role="requester", first=2)
    assert [i.id for i in first.items] == [i5, i4]
    assert first.has_next
    second = await store.list_introductions(
        w.a.id, role="requester", first=2, after=first.cursors[-1]
    )
    assert [i.id for i in second.items] == [i2, i1]
    assert not second.has_next
    assert second.items[1] == direct


# --- compare-and-set, acceptance ---------------------------------------------------------


async def test_update_is_compare_and_set(store: GraphStore) -> None:
    w = await world(store)
    i = make_introduction(w.a, w.b, broker=w.v, created=at(1))
    await store.insert_introduction(i)
    f = await store.update_introduction(i, forwarded(i))
    assert f is not None
    # Stale: the stored one is FORWARDED now, not REQUESTED.
    assert await store.update_introduction(i, decided(i, WITHDRAWN, w.a)) is None
    assert await store.get_introductions(w.a.id, [i.id]) == {i.id: f}
    unknown = make_introduction(w.a, w.c)
    assert await store.update_introduction(unknown, decided(unknown, WITHDRAWN, w.a)) is None
    withdrawn = await store.update_introduction(f, decided(f, WITHDRAWN, w.a, note="never mind"))
    assert withdrawn == decided(f, WITHDRAWN, w.a, note="never mind")
    assert await store.get_introductions(w.v.id, [i.id]) == {i.id: withdrawn}


def acceptance(i: Introduction, when: int = 8) -> tuple[Introduction, Partnership, IntroducedEdge]:
    p = Partnership(
        id=new_id(),
        inviter_id=i.requester_org,
        invitee_id=i.target_org,
        status=PartnershipStatus.ACTIVE,
        created_at=at(when),
        updated_at=at(when),
        activated_at=at(when),
    )
    new = replace(
        i,
        status=ACCEPTED,
        decided_at=at(when),
        decided_by_org=i.target_org,
        updated_at=at(when),
        partnership_id=p.id,
    )
    edge = IntroducedEdge(
        introduction_id=i.id,
        credited_org=i.broker_org or i.requester_org,
        from_org=i.requester_org,
        to_org=i.target_org,
        at=at(when),
    )
    return new, p, edge


async def test_accept_creates_the_partnership_and_the_edge(store: GraphStore) -> None:
    w = await world(store)
    i = make_introduction(w.a, w.b, broker=w.v, created=at(1))
    await store.insert_introduction(i)
    f = await store.update_introduction(i, forwarded(i))
    assert f is not None
    new, p, edge = acceptance(f)
    assert await store.accept_introduction(f, new, p, edge) == new
    assert await store.get_introductions(w.b.id, [i.id]) == {i.id: new}
    assert await store.get_partnerships(w.a.id, [p.id]) == {p.id: p}
    assert await store.get_partnerships(w.b.id, [p.id]) == {p.id: p}
    assert await store.live_partnership(w.b.id, w.a.id) == p
    assert await store.introduced_edges([w.v.id]) == [edge]
    assert await store.introduced_edges([w.a.id]) == [edge]
    assert await store.introduced_edges([w.b.id, w.x.id]) == [edge]
    assert await store.introduced_edges([w.x.id]) == []
    assert await store.introduced_edges([]) == []
    # Stale: accepted already; nothing more is written.
    again, p2, edge2 = acceptance(f, when=9)
    assert await store.accept_introduction(f, again, p2, edge2) is None
    assert await store.get_partnerships(w.a.id, [p2.id]) == {}
    assert await store.introduced_edges([w.a.id]) == [edge]
    # The pair is released (the live partnership is the resolvers' business).
    assert await store.insert_introduction(make_introduction(w.b, w.a, created=at(10)))

    # A direct introduction credits the requester; edges come by time then id.
    j = make_introduction(w.c, w.a, created=at(2))
    await store.insert_introduction(j)
    new_j, pj, edge_j = acceptance(j, when=7)
    assert await store.accept_introduction(j, new_j, pj, edge_j) == new_j
    assert edge_j.credited_org == w.c.id
    assert await store.introduced_edges([w.a.id]) == [edge_j, edge]
    assert await store.introduced_edges([w.c.id, w.v.id]) == [edge_j, edge]


async def test_accept_conflicts_when_the_pair_has_a_live_partnership(
    store: GraphStore,
) -> None:
    w = await world(store)
    live = await link(store, w.b, w.a, PartnershipStatus.INVITED)
    i = make_introduction(w.a, w.b, created=at(1))
    await store.insert_introduction(i)
    new, p, edge = acceptance(i)
    with pytest.raises(Conflict):
        await store.accept_introduction(i, new, p, edge)
    assert await store.get_introductions(w.a.id, [i.id]) == {i.id: i}
    assert await store.get_partnerships(w.a.id, [p.id]) == {}
    assert await store.live_partnership(w.a.id, w.b.id) == live
    assert await store.introduced_edges([w.a.id, w.b.id]) == []
    with pytest.raises(Conflict):  # still open: the pair is still held
        await store.insert_introduction(make_introduction(w.b, w.a))


# --- expiry, cooling-off, rate limits -----------------------------------------------------


async def test_expire_open_introductions_earliest_first(store: GraphStore) -> None:
    w = await world(store)
    d = make_org("D")
    await store.create_org(d)
    late = make_introduction(w.a, w.b, created=at(0), expires=at(10))
    early = make_introduction(w.a, w.c, created=at(0), expires=at(5))
    brokered = make_introduction(w.a, d, broker=w.v, created=at(0), expires=at(12))
    future = make_introduction(w.x, w.a, created=at(0), expires=at(100))
    closed = make_introduction(w.x, w.b, created=at(0), expires=at(1))
    for i in (late, early, brokered, future, closed):
        await store.insert_introduction(i)
    fwd = await store.update_introduction(brokered, forwarded(brokered, when=2))
    assert fwd is not None
    done = await store.update_introduction(closed, decided(closed, DECLINED, w.b, when=1))
    assert done is not None
    assert await store.expire_introductions(at(15), limit=0) == []
    assert await store.expire_introductions(at(15), limit=1) == [
        replace(early, status=EXPIRED, updated_at=at(15))
    ]
    assert await store.expire_introductions(at(16), limit=10) == [
        replace(late, status=EXPIRED, updated_at=at(16)),
        replace(fwd, status=EXPIRED, updated_at=at(16)),
    ]
    assert await store.expire_introductions(at(16), limit=10) == []
    assert (await store.get_introductions(w.a.id, [future.id]))[future.id].status is REQUESTED
    assert (await store.get_introductions(w.x.id, [closed.id]))[closed.id] == done
    # The expired pair is free again.
    await store.insert_introduction(make_introduction(w.c, w.a, created=at(20)))


async def test_last_declined_by_direction(store: GraphStore) -> None:
    w = await world(store)
    assert await store.last_declined(w.a.id, w.b.id) is None
    i = make_introduction(w.a, w.b, created=at(1))
    await store.insert_introduction(i)
    await store.update_introduction(i, decided(i, DECLINED, w.b, when=7))
    j = make_introduction(w.a, w.b, broker=w.v, created=at(8))
    await store.insert_introduction(j)
    await store.update_introduction(j, decided(j, DECLINED, w.v, when=9))  # the broker
    k = make_introduction(w.a, w.b, created=at(10))
    await store.insert_introduction(k)
    await store.update_introduction(k, decided(k, WITHDRAWN, w.a, when=11))  # not a decline
    assert await store.last_declined(w.a.id, w.b.id) == at(9)
    assert await store.last_declined(w.b.id, w.a.id) is None
    assert await store.last_declined(w.a.id, w.c.id) is None
    m = make_introduction(w.b, w.a, created=at(12))
    await store.insert_introduction(m)
    await store.update_introduction(m, decided(m, DECLINED, w.a, when=13))
    assert await store.last_declined(w.b.id, w.a.id) == at(13)
    assert await store.last_declined(w.a.id, w.b.id) == at(9)


async def test_requests_since_counts_intros_and_asks_by_that_org(store: GraphStore) -> None:
    w = await world(store)
    await link(store, w.a, w.b)
    for target, minute in ((w.b, 1), (w.c, 5), (w.x, 9)):
        i = make_introduction(w.a, target, created=at(minute))
        await store.insert_introduction(i)
        if target is w.b:  # closed ones count too
            await store.update_introduction(i, decided(i, WITHDRAWN, w.a, when=2))
    await store.insert_introduction(make_introduction(w.v, w.a, created=at(6)))
    for minute in (3, 6):
        await store.insert_ask(make_ask(w.a, w.b, w.acc["a-1"], created=at(minute)))
    await store.insert_ask(make_ask(w.b, w.a, w.acc["b-1"], created=at(7)))
    assert await store.requests_since(w.a.id, at(0)) == 5
    assert await store.requests_since(w.a.id, at(3)) == 4  # at or after
    assert await store.requests_since(w.a.id, at(5)) == 3
    assert await store.requests_since(w.a.id, at(10)) == 0
    assert await store.requests_since(w.b.id, at(0)) == 1
    assert await store.requests_since(w.v.id, at(0)) == 1
    assert await store.requests_since(w.x.id, at(0)) == 0


# --- account asks -------------------------------------------------------------------------


async def test_asks_round_trip_visibility_and_conflict(store: GraphStore) -> None:
    w = await world(store)
    await link(store, w.a, w.b)
    ask = make_ask(
        w.a,
        w.b,
        w.acc["a-1"],
        (w.acc["b-2"], w.acc["b-1"]),
        kind=AskKind.INTRO_TO_CONTACT,
        created=at(1),
        message="Who runs IT at Acme?",
    )
    assert ask.partner_account_ids == tuple(sorted((w.acc["b-1"], w.acc["b-2"])))
    assert await store.insert_ask(ask) == ask
    assert await store.get_asks(w.a.id, [ask.id, "nope"]) == {ask.id: ask}
    assert await store.get_asks(w.b.id, [ask.id]) == {ask.id: ask}
    assert await store.get_asks(w.x.id, [ask.id]) == {}
    assert await store.get_asks(w.a.id, []) == {}
    with pytest.raises(Conflict):
        await store.insert_ask(replace(ask, message="again"))
    assert (await store.get_asks(w.a.id, [ask.id]))[ask.id].message == "Who runs IT at Acme?"
    no_partner_accounts = make_ask(w.b, w.a, w.acc["b-1"], kind=AskKind.REFERENCE)
    assert await store.insert_ask(no_partner_accounts) == no_partner_accounts
    assert await store.get_asks(w.b.id, [no_partner_accounts.id]) == {
        no_partner_accounts.id: no_partner_accounts
    }


async def test_asks_list_by_side_and_compare_and_set(store: GraphStore) -> None:
    w = await world(store)
    await link(store, w.a, w.b)
    k1, k2, k3, k4 = ids(4)
    asks = [
        make_ask(w.a, w.b, w.acc["a-1"], (w.acc["b-1"],), aid=k1, created=at(1)),
        make_ask(w.a, w.b, w.acc["a-2"], (w.acc["b-2"],), aid=k2, created=at(2)),
        make_ask(w.b, w.a, w.acc["b-1"], (w.acc["a-1"],), aid=k3, created=at(3)),
        make_ask(w.a, w.b, w.acc["a-1"], (w.acc["b-1"],), aid=k4, created=at(4)),
    ]
    for ask in asks:
        await store.insert_ask(ask)
    answered = replace(
        asks[1],
        status=AskStatus.ACCEPTED,
        answered_at=at(5),
        answered_by="b-user",
        note="happy to",
        updated_at=at(5),
    )
    assert await store.update_ask(asks[1], answered) == answered
    stale = replace(asks[1], status=AskStatus.WITHDRAWN, updated_at=at(6))
    assert await store.update_ask(asks[1], stale) is None
    assert (await store.get_asks(w.b.id, [k2]))[k2] == answered

    async def listed(org: Org, side: str, **kwargs: object) -> list[str]:
        page = await store.list_asks(org.id, side=side, first=10, **kwargs)  # type: ignore[arg-type]
        return [a.id for a in page.items]

    assert await listed(w.a, "requester") == [k4, k2, k1]
    assert await listed(w.a, "partner") == [k3]
    assert await listed(w.b, "partner") == [k4, k2, k1]
    assert await listed(w.b, "requester") == [k3]
    assert await listed(w.x, "requester") == []
    assert await listed(w.x, "partner") == []
    assert await listed(w.b, "partner", statuses=[AskStatus.REQUESTED]) == [k4, k1]
    assert await listed(w.b, "partner", statuses=[AskStatus.ACCEPTED]) == [k2]
    first = await store.list_asks(w.a.id, side="requester", first=2)
    assert [a.id for a in first.items] == [k4, k2]
    assert first.has_next
    rest = await store.list_asks(w.a.id, side="requester", first=2, after=first.cursors[-1])
    assert rest.items == [asks[0]]
    assert not rest.has_next


async def test_expire_open_asks(store: GraphStore) -> None:
    w = await world(store)
    await link(store, w.a, w.b)
    early = make_ask(w.a, w.b, w.acc["a-1"], created=at(0), expires=at(5))
    late = make_ask(w.b, w.a, w.acc["b-1"], created=at(0), expires=at(8))
    future = make_ask(w.a, w.b, w.acc["a-2"], created=at(0), expires=at(100))
    answered = make_ask(w.a, w.b, w.acc["a-2"], created=at(0), expires=at(1))
    for ask in (early, late, future, answered):
        await store.insert_ask(ask)
    declined = replace(answered, status=AskStatus.DECLINED, answered_at=at(1), updated_at=at(1))
    assert await store.update_ask(answered, declined) == declined
    assert await store.expire_asks(at(10), limit=1) == [
        replace(early, status=AskStatus.EXPIRED, updated_at=at(10))
    ]
    assert await store.expire_asks(at(11), limit=10) == [
        replace(late, status=AskStatus.EXPIRED, updated_at=at(11))
    ]
    assert await store.expire_asks(at(11), limit=10) == []
    found = await store.get_asks(w.a.id, [future.id, answered.id])
    assert found == {future.id: future, answered.id: declined}
    assert timedelta(0) < future.expires_at - at(11)
