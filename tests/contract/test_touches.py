"""Contract: touches (idempotent batch recording by external id, visibility to the vendor
and the partner only, filters and newest-first paging, compare-and-set status moves) and
the vendor's closed opportunities by close time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest

from graph.deals import OpportunityStatus
from graph.errors import BadInput
from graph.model import KeyState, Org
from graph.port import GraphStore
from graph.touches import TouchKind, TouchStatus, TouchWrite
from tests.factories import at, make_opportunity, make_org, make_touch, make_upsert, new_id

V1 = KeyState()
CONFIRMED, PENDING, REJECTED = TouchStatus.CONFIRMED, TouchStatus.PENDING, TouchStatus.REJECTED


@dataclass
class World:
    vendor: Org
    p: Org  # a partner
    q: Org  # another partner
    x: Org  # a third org (also a vendor, with its own account and opportunity)
    acc: dict[str, str]  # the vendor's accounts: crm_id -> id
    opp: dict[str, str]  # the vendor's opportunities: crm_id -> id
    x_acc: str
    x_opp: str


async def world(store: GraphStore) -> World:
    vendor, p, q, x = make_org("V"), make_org("P"), make_org("Q"), make_org("X")
    for org in (vendor, p, q, x):
        await store.create_org(org)
    accounts = await store.upsert_accounts(
        vendor.id,
        [make_upsert("acc-1", "acme.com"), make_upsert("acc-2", "globex.com")],
        expected_state=V1,
        at=at(0),
    )
    opps = await store.upsert_opportunities(
        vendor.id,
        [make_opportunity("opp-1", "acc-1"), make_opportunity("opp-2", "acc-2")],
        at=at(0),
    )
    x_accounts = await store.upsert_accounts(
        x.id, [make_upsert("acc-1", "acme.com")], expected_state=V1, at=at(0)
    )
    x_opps = await store.upsert_opportunities(x.id, [make_opportunity("opp-1", "acc-1")], at=at(0))
    x_opp = x_opps[0].opportunity_id
    assert x_opp is not None
    return World(
        vendor,
        p,
        q,
        x,
        {r.crm_id: r.account_id for r in accounts},
        {r.crm_id: r.opportunity_id for r in opps if r.opportunity_id is not None},
        x_accounts[0].account_id,
        x_opp,
    )


def ids(n: int) -> list[str]:
    """n fresh ids in ascending order."""
    return sorted(new_id() for _ in range(n))


# --- record_touches ----------------------------------------------------------------------


async def test_record_creates_then_get_round_trips(store: GraphStore) -> None:
    w = await world(store)
    t1 = make_touch(
        w.vendor.id,
        w.p.id,
        w.acc["acc-1"],
        opportunity_id=w.opp["opp-1"],
        external_id="e-1",
        kind=TouchKind.TECHNICAL_WIN,
        when=at(10),
        weight=Decimal("0.125"),
    )
    t2 = make_touch(
        w.vendor.id,
        w.q.id,
        w.acc["acc-2"],
        external_id="e-2",
        kind=TouchKind.EVENT,
        when=at(11),
        weight=Decimal("2.50"),
        status=PENDING,
        recorded_by=w.q.id,
    )
    assert await store.record_touches([t1, t2]) == [
        TouchWrite("e-1", t1.id, True),
        TouchWrite("e-2", t2.id, True),
    ]
    got = await store.get_touches(w.vendor.id, [t1.id, t2.id, "nope"])
    assert got == {t1.id: t1, t2.id: t2}
    # Decimal weights come back exactly, scale included.
    assert str(got[t1.id].weight) == "0.125"
    assert str(got[t2.id].weight) == "2.50"
    assert got[t1.id].opportunity_id == w.opp["opp-1"]
    assert got[t2.id].opportunity_id is None
    assert isinstance(got[t1.id].kind, TouchKind)
    assert isinstance(got[t1.id].status, TouchStatus)
    assert await store.record_touches([]) == []


async def test_record_replaces_by_vendor_recorder_and_external_id(store: GraphStore) -> None:
    w = await world(store)
    old = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], external_id="e-1", when=at(10))
    await store.record_touches([old])
    new = make_touch(
        w.vendor.id,
        w.q.id,
        w.acc["acc-2"],
        opportunity_id=w.opp["opp-2"],
        external_id="e-1",
        kind=TouchKind.REFERRAL,
        when=at(20),
        weight=Decimal("3"),
        status=REJECTED,
        created=at(30),
    )
    # The same external id recorded by the partner is another touch.
    by_partner = make_touch(
        w.vendor.id,
        w.p.id,
        w.acc["acc-1"],
        external_id="e-1",
        status=PENDING,
        recorded_by=w.p.id,
        when=at(12),
    )
    # ... and so is the same external id under another vendor.
    other_vendor = make_touch(w.x.id, w.p.id, w.x_acc, external_id="e-1", when=at(13))
    writes = await store.record_touches([by_partner, new, other_vendor])
    assert writes == [
        TouchWrite("e-1", by_partner.id, True),
        TouchWrite("e-1", old.id, False),
        TouchWrite("e-1", other_vendor.id, True),
    ]
    got = await store.get_touches(w.vendor.id, [old.id, new.id, by_partner.id])
    # Replacing keeps id and created_at; everything else comes from the input.
    assert got == {
        old.id: replace(new, id=old.id, created_at=old.created_at),
        by_partner.id: by_partner,
    }
    assert await store.get_touches(w.x.id, [other_vendor.id]) == {other_vendor.id: other_vendor}
    # Recording the same again is idempotent.
    again = replace(new, id=new_id())
    assert await store.record_touches([again]) == [TouchWrite("e-1", old.id, False)]
    assert await store.get_touches(w.vendor.id, [old.id]) == {
        old.id: replace(new, id=old.id, created_at=old.created_at)
    }


async def test_record_refuses_duplicates_within_a_call(store: GraphStore) -> None:
    w = await world(store)
    a = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], external_id="e-1")
    b = make_touch(w.vendor.id, w.q.id, w.acc["acc-2"], external_id="e-1")
    fine = make_touch(w.vendor.id, w.q.id, w.acc["acc-2"], external_id="e-2")
    with pytest.raises(BadInput):
        await store.record_touches([fine, a, b])
    assert await store.get_touches(w.vendor.id, [a.id, b.id, fine.id]) == {}
    # Not duplicates: another recorder, or another vendor.
    c = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], external_id="e-1", recorded_by=w.p.id)
    d = make_touch(w.x.id, w.p.id, w.x_acc, external_id="e-1")
    writes = await store.record_touches([a, c, d])
    assert [wr.created for wr in writes] == [True, True, True]


async def test_record_many_in_one_call(store: GraphStore) -> None:
    w = await world(store)
    touches = [
        make_touch(
            w.vendor.id,
            w.p.id if n % 2 else w.q.id,
            w.acc["acc-1"],
            external_id=f"bulk-{n:04d}",
            when=at(n),
            weight=Decimal(n) / 100,
        )
        for n in range(1500)
    ]
    writes = await store.record_touches(touches)
    assert [wr.touch_id for wr in writes] == [t.id for t in touches]
    assert all(wr.created for wr in writes)
    got = await store.get_touches(w.vendor.id, [t.id for t in touches])
    assert got == {t.id: t for t in touches}
    rewritten = [replace(t, id=new_id(), kind=TouchKind.CONTENT) for t in touches[::3]]
    writes = await store.record_touches(rewritten)
    assert [(wr.touch_id, wr.created) for wr in writes] == [(t.id, False) for t in touches[::3]]


# --- visibility and lists ----------------------------------------------------------------


async def test_get_sees_vendor_and_partner_only(store: GraphStore) -> None:
    w = await world(store)
    t = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"])
    u = make_touch(w.x.id, w.q.id, w.x_acc)
    await store.record_touches([t])
    await store.record_touches([u])
    assert await store.get_touches(w.vendor.id, [t.id, u.id]) == {t.id: t}
    assert await store.get_touches(w.p.id, [t.id, u.id]) == {t.id: t}
    assert await store.get_touches(w.q.id, [t.id, u.id]) == {u.id: u}
    assert await store.get_touches(w.x.id, [t.id, u.id]) == {u.id: u}
    stranger = make_org("S")
    await store.create_org(stranger)
    assert await store.get_touches(stranger.id, [t.id, u.id]) == {}
    assert await store.get_touches(w.vendor.id, []) == {}


async def test_list_by_side_status_opportunity_newest_first(store: GraphStore) -> None:
    w = await world(store)
    i = ids(6)
    touches = [
        make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], tid=i[0], opportunity_id=w.opp["opp-1"]),
        make_touch(w.vendor.id, w.q.id, w.acc["acc-1"], tid=i[1], status=PENDING),
        make_touch(w.vendor.id, w.p.id, w.acc["acc-2"], tid=i[2], status=REJECTED),
        make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], tid=i[3], opportunity_id=w.opp["opp-1"]),
        make_touch(w.x.id, w.p.id, w.x_acc, tid=i[4], opportunity_id=w.x_opp),
        make_touch(w.vendor.id, w.q.id, w.acc["acc-2"], tid=i[5], opportunity_id=w.opp["opp-2"]),
    ]
    await store.record_touches(touches)

    async def listed(org: Org, **kwargs: object) -> list[str]:
        page = await store.list_touches(org.id, first=100, **kwargs)  # type: ignore[arg-type]
        return [t.id for t in page.items]

    assert await listed(w.vendor, side="vendor") == [i[5], i[3], i[2], i[1], i[0]]
    assert await listed(w.vendor, side="partner") == []
    assert await listed(w.p, side="partner") == [i[4], i[3], i[2], i[0]]
    assert await listed(w.p, side="vendor") == []
    assert await listed(w.q, side="partner") == [i[5], i[1]]
    assert await listed(w.x, side="vendor") == [i[4]]
    assert await listed(w.vendor, side="vendor", statuses=[PENDING, REJECTED]) == [i[2], i[1]]
    assert await listed(w.vendor, side="vendor", statuses=[CONFIRMED]) == [i[5], i[3], i[0]]
    assert await listed(w.vendor, side="vendor", statuses=[]) == []
    assert await listed(w.p, side="partner", opportunity_id=w.opp["opp-1"]) == [i[3], i[0]]
    assert await listed(w.p, side="partner", opportunity_id=w.x_opp) == [i[4]]
    assert (
        await listed(w.vendor, side="vendor", opportunity_id=w.opp["opp-1"], statuses=[PENDING])
        == []
    )

    # Paging: newest first, cursors resume after the last item shown.
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.list_touches(w.vendor.id, side="vendor", first=2, after=after)
        assert len(page.items) <= 2
        assert len(page.cursors) == len(page.items)
        seen += [t.id for t in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == [i[5], i[3], i[2], i[1], i[0]]
    last = await store.list_touches(w.vendor.id, side="vendor", first=5)
    assert not last.has_next
    assert (await store.list_touches(w.vendor.id, side="vendor", first=0)).items == []
    with pytest.raises(BadInput):
        await store.list_touches(w.vendor.id, side="vendor", first=-1)


# --- compare-and-set status ---------------------------------------------------------------


async def test_set_status_moves_only_expected_ones(store: GraphStore) -> None:
    w = await world(store)
    i = ids(4)
    pend_a = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], tid=i[2], status=PENDING)
    pend_b = make_touch(w.vendor.id, w.q.id, w.acc["acc-2"], tid=i[0], status=PENDING)
    conf = make_touch(w.vendor.id, w.p.id, w.acc["acc-1"], tid=i[1])
    theirs = make_touch(w.x.id, w.p.id, w.x_acc, tid=i[3], status=PENDING)
    await store.record_touches([pend_a, pend_b, conf, theirs])
    moved = await store.set_touch_status(
        w.vendor.id, [*i, "nope"], expected=PENDING, status=CONFIRMED
    )
    assert moved == [replace(pend_b, status=CONFIRMED), replace(pend_a, status=CONFIRMED)]
    # Another vendor's touch is untouched, even when named.
    assert await store.get_touches(w.x.id, [theirs.id]) == {theirs.id: theirs}
    # Stale: nothing is PENDING any more.
    assert await store.set_touch_status(w.vendor.id, i, expected=PENDING, status=REJECTED) == []
    # The other vendor moves its own.
    assert await store.set_touch_status(
        w.x.id, [theirs.id, conf.id], expected=PENDING, status=REJECTED
    ) == [replace(theirs, status=REJECTED)]
    assert await store.get_touches(w.vendor.id, [conf.id]) == {conf.id: conf}
    assert await store.set_touch_status(w.vendor.id, [], expected=PENDING, status=CONFIRMED) == []


# --- closed opportunities ---------------------------------------------------------------


async def test_closed_opportunities_in_a_half_open_range(store: GraphStore) -> None:
    w = await world(store)
    i = ids(7)
    won, lost = OpportunityStatus.WON, OpportunityStatus.LOST
    rows = [
        make_opportunity("c-0", "acc-1", status=won, closed_at=at(99), new_id_=i[0]),  # before
        make_opportunity("c-1", "acc-1", status=won, closed_at=at(100), new_id_=i[1]),  # from
        make_opportunity("c-2", "acc-2", status=lost, closed_at=at(150), new_id_=i[2]),
        make_opportunity("c-3", "acc-1", status=won, closed_at=at(200), new_id_=i[3]),  # to
        make_opportunity("c-4", "acc-2", new_id_=i[4]),  # open
        make_opportunity("c-5", "acc-2", status=won, closed_at=at(199), new_id_=i[5]),
        make_opportunity(
            "c-6", "acc-2", status=won, closed_at=at(200) - timedelta(microseconds=1), new_id_=i[6]
        ),
    ]
    await store.upsert_opportunities(w.vendor.id, rows, at=at(0))
    await store.upsert_opportunities(
        w.x.id, [make_opportunity("c-9", "acc-1", status=won, closed_at=at(150))], at=at(0)
    )
    page = await store.closed_opportunities(
        w.vendor.id, closed_from=at(100), closed_to=at(200), first=10
    )
    assert [o.id for o in page.items] == [i[1], i[2], i[5], i[6]]
    assert not page.has_next
    assert page.items[1].status is lost
    assert page.items[0].crm_id == "c-1"
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.closed_opportunities(
            w.vendor.id, closed_from=at(100), closed_to=at(200), first=3, after=after
        )
        seen += [o.id for o in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == [i[1], i[2], i[5], i[6]]
    none = await store.closed_opportunities(w.p.id, closed_from=at(0), closed_to=at(1000), first=10)
    assert none.items == []
