"""Contract: influence paths (TouchStore.influence_paths), hand-built cases and a
randomized comparison against `reference_paths`, a plain-Python transcription of the
port's definition, so every store gives the same answers."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from graph.deals import Opportunity, OpportunityStatus
from graph.intros import IntroducedEdge
from graph.model import KeyState, Org
from graph.port import GraphStore
from graph.touches import InfluencePath, PathStep, Touch, TouchKind, TouchStatus
from tests.factories import at, introduce, make_opportunity, make_org, make_touch, make_upsert

V1 = KeyState()
WON, LOST, OPEN = OpportunityStatus.WON, OpportunityStatus.LOST, OpportunityStatus.OPEN
CONFIRMED, PENDING, REJECTED = TouchStatus.CONFIRMED, TouchStatus.PENDING, TouchStatus.REJECTED
INTRO = TouchKind.INTRO
DAY = timedelta(days=1)
US = timedelta(microseconds=1)
YEAR = timedelta(days=365)


# --- the reference ------------------------------------------------------------------------


def path_key(path: InfluencePath) -> tuple[Any, ...]:
    """The port's order: hops, then the steps as (at, partner_org, kind, target_org)."""
    return (
        path.hops,
        tuple((s.at, s.partner_org, str(s.kind), s.target_org or "") for s in path.steps),
    )


def window_end(opp: Opportunity, now: datetime) -> datetime:
    if opp.status is OPEN or opp.closed_at is None:
        return now
    return opp.closed_at


def reference_paths(
    vendor_org: str,
    opportunities: Sequence[Opportunity],
    touches: Sequence[Touch],
    edges: Sequence[IntroducedEdge],
    *,
    max_hops: int,
    window: timedelta,
    now: datetime,
) -> dict[str, list[InfluencePath]]:
    result: dict[str, list[InfluencePath]] = {}
    for opp in opportunities:
        if opp.org_id != vendor_org:
            continue
        end = window_end(opp, now)
        start = end - window
        level = [
            InfluencePath((PathStep(t.partner_org, t.kind, t.at, t.weight),))
            for t in touches
            if t.vendor_org == vendor_org
            and t.status is CONFIRMED
            and start <= t.at <= end
            and (
                t.opportunity_id == opp.id
                or (t.opportunity_id is None and t.account_id == opp.account_id)
            )
        ]
        paths = list(level)
        for _ in range(max_hops):
            longer = []
            for path in level:
                first = path.steps[0]
                on_path = {s.partner_org for s in path.steps}
                for e in edges:
                    if (
                        first.partner_org in (e.from_org, e.to_org)
                        and e.credited_org not in on_path
                        and start <= e.at <= first.at
                    ):
                        step = PathStep(
                            e.credited_org, INTRO, e.at, Decimal(1), target_org=first.partner_org
                        )
                        longer.append(InfluencePath((step, *path.steps)))
            paths += longer
            level = longer
        result[opp.id] = sorted(paths, key=path_key)
    return result


def assert_same(got: dict[str, list[InfluencePath]], want: dict[str, list[InfluencePath]]) -> None:
    """Same opportunities, same paths, in the port's order (paths that tie on the order
    key may come in any order among themselves)."""
    assert sorted(got) == sorted(want)
    for opp_id, paths in want.items():
        assert [path_key(p) for p in got[opp_id]] == [path_key(p) for p in paths], opp_id
        assert Counter(got[opp_id]) == Counter(paths), opp_id


# --- a hand-built world -------------------------------------------------------------------


@dataclass
class World:
    v: Org  # the vendor
    a: Org
    b: Org
    c: Org
    d: Org
    x: Org  # another vendor
    acc: dict[str, str]  # the vendor's accounts: crm_id -> id
    opp: dict[str, str]  # the vendor's opportunities: crm_id -> id
    x_acc: str
    x_opp: str


CLOSE = at(100_000)  # when opp-1 was won


async def world(store: GraphStore) -> World:
    v, a, b, c, d, x = (make_org(n) for n in ("V", "A", "B", "C", "D", "X"))
    for org in (v, a, b, c, d, x):
        await store.create_org(org)
    accounts = await store.upsert_accounts(
        v.id,
        [make_upsert("acc-1", "acme.com"), make_upsert("acc-2", "globex.com")],
        expected_state=V1,
        at=at(0),
    )
    acc = {r.crm_id: r.account_id for r in accounts}
    opps = await store.upsert_opportunities(
        v.id,
        [
            make_opportunity("opp-1", "acc-1", status=WON, closed_at=CLOSE),
            make_opportunity("opp-2", "acc-1", status=LOST, closed_at=CLOSE),
            make_opportunity("opp-3", "acc-2"),
        ],
        at=at(0),
    )
    x_accounts = await store.upsert_accounts(
        x.id, [make_upsert("acc-1", "acme.com")], expected_state=V1, at=at(0)
    )
    x_opps = await store.upsert_opportunities(
        x.id, [make_opportunity("opp-1", "acc-1", status=WON, closed_at=CLOSE)], at=at(0)
    )
    x_opp = x_opps[0].opportunity_id
    assert x_opp is not None
    return World(
        v,
        a,
        b,
        c,
        d,
        x,
        acc,
        {r.crm_id: r.opportunity_id for r in opps if r.opportunity_id is not None},
        x_accounts[0].account_id,
        x_opp,
    )


def step(
    org: Org, kind: TouchKind, when: datetime, weight: str = "1", to: Org | None = None
) -> PathStep:
    return PathStep(org.id, kind, when, Decimal(weight), None if to is None else to.id)


async def paths(
    store: GraphStore,
    w: World,
    opp_ids: Sequence[str],
    *,
    max_hops: int = 3,
    window: timedelta = YEAR,
    now: datetime = CLOSE + 10 * DAY,
) -> dict[str, list[InfluencePath]]:
    return await store.influence_paths(w.v.id, opp_ids, max_hops=max_hops, window=window, now=now)


async def test_direct_touches_on_the_opportunity_and_its_account(store: GraphStore) -> None:
    w = await world(store)
    v = w.v.id
    on_opp = make_touch(
        v, w.a.id, w.acc["acc-1"], opportunity_id=w.opp["opp-1"], when=CLOSE - 5 * DAY,
        kind=TouchKind.TECHNICAL_WIN, weight=Decimal("0.5"),
    )  # fmt: skip
    on_account = make_touch(v, w.b.id, w.acc["acc-1"], when=CLOSE - 9 * DAY, kind=TouchKind.EVENT)
    on_other_opp = make_touch(
        v, w.c.id, w.acc["acc-1"], opportunity_id=w.opp["opp-2"], when=CLOSE - 3 * DAY
    )
    on_other_account = make_touch(v, w.d.id, w.acc["acc-2"], when=CLOSE - 3 * DAY)
    pending = make_touch(
        v, w.c.id, w.acc["acc-1"], opportunity_id=w.opp["opp-1"], when=CLOSE - 2 * DAY,
        status=PENDING, recorded_by=w.c.id,
    )  # fmt: skip
    rejected = make_touch(v, w.d.id, w.acc["acc-1"], when=CLOSE - 2 * DAY, status=REJECTED)
    others = make_touch(
        w.x.id, w.a.id, w.x_acc, opportunity_id=w.x_opp, when=CLOSE - 1 * DAY
    )  # another vendor's touch on its own deal
    await store.record_touches(
        [on_opp, on_account, on_other_opp, on_other_account, pending, rejected]
    )
    await store.record_touches([others])

    got = await paths(store, w, [w.opp["opp-1"], w.opp["opp-2"], w.opp["opp-3"], w.x_opp, "nope"])
    assert got == {
        w.opp["opp-1"]: [
            InfluencePath((step(w.b, TouchKind.EVENT, CLOSE - 9 * DAY),)),
            InfluencePath((step(w.a, TouchKind.TECHNICAL_WIN, CLOSE - 5 * DAY, "0.5"),)),
        ],
        w.opp["opp-2"]: [
            InfluencePath((step(w.b, TouchKind.EVENT, CLOSE - 9 * DAY),)),
            InfluencePath((step(w.c, TouchKind.CO_SELL_MEETING, CLOSE - 3 * DAY),)),
        ],
        w.opp["opp-3"]: [InfluencePath((step(w.d, TouchKind.CO_SELL_MEETING, CLOSE - 3 * DAY),))],
    }
    assert str(got[w.opp["opp-1"]][1].steps[0].weight) == "0.5"
    # The other vendor sees its own deal only.
    theirs = await store.influence_paths(
        w.x.id, [w.opp["opp-1"], w.x_opp], max_hops=3, window=YEAR, now=CLOSE
    )
    assert theirs == {
        w.x_opp: [InfluencePath((step(w.a, TouchKind.CO_SELL_MEETING, CLOSE - DAY),))]
    }
    assert await paths(store, w, []) == {}


async def test_the_window_includes_both_ends(store: GraphStore) -> None:
    w = await world(store)
    v, acc1, acc2 = w.v.id, w.acc["acc-1"], w.acc["acc-2"]
    window = 10 * DAY
    now = CLOSE + 50 * DAY
    touches = [
        make_touch(v, w.a.id, acc1, when=CLOSE - window),  # the start: in
        make_touch(v, w.b.id, acc1, when=CLOSE - window - US),  # out
        make_touch(v, w.c.id, acc1, when=CLOSE),  # the end (closed_at): in
        make_touch(v, w.d.id, acc1, when=CLOSE + US),  # after the close: out
        # opp-3 is OPEN: its window ends now.
        make_touch(v, w.a.id, acc2, when=now),
        make_touch(v, w.b.id, acc2, when=now + US),
        make_touch(v, w.c.id, acc2, when=now - window),
        make_touch(v, w.d.id, acc2, when=now - window - US),
    ]
    await store.record_touches(touches)
    got = await paths(store, w, [w.opp["opp-1"], w.opp["opp-3"]], window=window, now=now)
    meeting = TouchKind.CO_SELL_MEETING
    assert got == {
        w.opp["opp-1"]: [
            InfluencePath((step(w.a, meeting, CLOSE - window),)),
            InfluencePath((step(w.c, meeting, CLOSE),)),
        ],
        w.opp["opp-3"]: [
            InfluencePath((step(w.c, meeting, now - window),)),
            InfluencePath((step(w.a, meeting, now),)),
        ],
    }
    # Edges obey the same start.
    await introduce(store, w.b.id, w.a.id, w.d.id, CLOSE - window)
    await introduce(store, w.c.id, w.a.id, w.d.id, CLOSE - window - US)
    got = await paths(store, w, [w.opp["opp-1"]], window=window, now=now)
    assert got[w.opp["opp-1"]] == [
        InfluencePath((step(w.a, meeting, CLOSE - window),)),
        InfluencePath((step(w.c, meeting, CLOSE),)),
        InfluencePath(
            (step(w.b, INTRO, CLOSE - window, to=w.a), step(w.a, meeting, CLOSE - window))
        ),
    ]


async def test_multi_hop_through_introductions(store: GraphStore) -> None:
    w = await world(store)
    reg = TouchKind.DEAL_REGISTRATION
    t_a = CLOSE - 10 * DAY
    await store.record_touches(
        [
            make_touch(
                w.v.id, w.a.id, w.acc["acc-1"], opportunity_id=w.opp["opp-1"], when=t_a, kind=reg
            )
        ]
    )
    # B brokered A <-> D before A's touch; C introduced itself to B (direct) before that.
    await introduce(store, w.b.id, w.a.id, w.d.id, CLOSE - 20 * DAY)
    await introduce(store, w.c.id, w.c.id, w.b.id, CLOSE - 30 * DAY)
    # D introduced itself to C (direct), D is the target of C->... : credited D, C in it.
    await introduce(store, w.d.id, w.d.id, w.c.id, CLOSE - 40 * DAY)
    # Too late for any path: after A's touch.
    await introduce(store, w.c.id, w.a.id, w.b.id, t_a + US)
    # The edge time may equal the next step's time.
    await introduce(store, w.x.id, w.x.id, w.a.id, t_a)

    a_touch = step(w.a, reg, t_a)
    b_a = step(w.b, INTRO, CLOSE - 20 * DAY, to=w.a)
    c_b = step(w.c, INTRO, CLOSE - 30 * DAY, to=w.b)
    d_c = step(w.d, INTRO, CLOSE - 40 * DAY, to=w.c)
    x_a = step(w.x, INTRO, t_a, to=w.a)
    # D -> A? D is on the A<->D edge but credited B; D's own edge is with C only.
    expected = {
        0: [InfluencePath((a_touch,))],
        1: [InfluencePath((b_a, a_touch)), InfluencePath((x_a, a_touch))],
        2: [InfluencePath((c_b, b_a, a_touch))],
        3: [InfluencePath((d_c, c_b, b_a, a_touch))],
    }
    for max_hops in range(4):
        want = [p for h in range(max_hops + 1) for p in expected[h]]
        got = await paths(store, w, [w.opp["opp-1"]], max_hops=max_hops)
        assert got == {w.opp["opp-1"]: want}, max_hops
    assert await paths(store, w, [w.opp["opp-1"]], max_hops=5) == await paths(
        store, w, [w.opp["opp-1"]], max_hops=3
    )
    # The account-level touch counts for opp-2 too? No: it is on opp-1.
    assert await paths(store, w, [w.opp["opp-2"]]) == {w.opp["opp-2"]: []}


async def test_a_credited_org_never_repeats_on_a_path(store: GraphStore) -> None:
    w = await world(store)
    meeting = TouchKind.CO_SELL_MEETING
    t_a = CLOSE - 10 * DAY
    await store.record_touches([make_touch(w.v.id, w.a.id, w.acc["acc-1"], when=t_a)])
    # A introduced itself to B (credited A, A on the edge): never A -> A.
    await introduce(store, w.a.id, w.a.id, w.b.id, CLOSE - 20 * DAY)
    # B brokered A <-> C: B -> A.
    await introduce(store, w.b.id, w.a.id, w.c.id, CLOSE - 21 * DAY)
    # A brokered B <-> D: would be A -> B -> A; not a path.
    await introduce(store, w.a.id, w.b.id, w.d.id, CLOSE - 22 * DAY)
    # C brokered B <-> D: C -> B -> A.
    await introduce(store, w.c.id, w.d.id, w.b.id, CLOSE - 23 * DAY)
    # B brokered C <-> D: would be B -> C -> B -> A; not a path. D credited? no.
    await introduce(store, w.b.id, w.c.id, w.d.id, CLOSE - 24 * DAY)
    a_touch = step(w.a, meeting, t_a)
    b_a = step(w.b, INTRO, CLOSE - 21 * DAY, to=w.a)
    c_b = step(w.c, INTRO, CLOSE - 23 * DAY, to=w.b)
    got = await paths(store, w, [w.opp["opp-1"]], max_hops=5)
    assert got == {
        w.opp["opp-1"]: [
            InfluencePath((a_touch,)),
            InfluencePath((b_a, a_touch)),
            InfluencePath((c_b, b_a, a_touch)),
        ]
    }


async def test_paths_are_ordered_by_hops_then_steps(store: GraphStore) -> None:
    w = await world(store)
    acc1, opp1 = w.acc["acc-1"], w.opp["opp-1"]
    t1, t2, t0 = CLOSE - 10 * DAY, CLOSE - 5 * DAY, CLOSE - 20 * DAY
    first, second = sorted([w.a, w.b], key=lambda o: o.id)
    referral, content, event = TouchKind.REFERRAL, TouchKind.CONTENT, TouchKind.EVENT
    touches = [
        make_touch(w.v.id, second.id, acc1, when=t1, kind=referral),
        make_touch(w.v.id, first.id, acc1, opportunity_id=opp1, when=t1, kind=referral),
        make_touch(w.v.id, first.id, acc1, when=t1, kind=content),
        make_touch(w.v.id, first.id, acc1, opportunity_id=opp1, when=t2, kind=event),
    ]
    await store.record_touches(touches)
    await introduce(store, w.c.id, w.c.id, second.id, t0)
    await introduce(store, w.d.id, w.d.id, first.id, t0)
    got = (await paths(store, w, [opp1], max_hops=1))[opp1]
    hop0 = [
        InfluencePath((step(first, content, t1),)),
        InfluencePath((step(first, referral, t1),)),
        InfluencePath((step(second, referral, t1),)),
        InfluencePath((step(first, event, t2),)),
    ]
    c_second = step(w.c, INTRO, t0, to=second)
    d_first = step(w.d, INTRO, t0, to=first)
    hop1 = sorted(
        [
            InfluencePath((c_second, step(second, referral, t1))),
            InfluencePath((d_first, step(first, content, t1))),
            InfluencePath((d_first, step(first, referral, t1))),
            InfluencePath((d_first, step(first, event, t2))),
        ],
        key=path_key,
    )
    # Hop-1 paths all start at t0: by crediting org, then by the touch step.
    assert [p.origin for p in hop1] == sorted(p.origin for p in hop1)
    assert got == hop0 + hop1


# --- randomized: the store against the reference -----------------------------------------


@pytest.mark.parametrize("seed", [7, 1234])
async def test_matches_the_reference_on_random_worlds(store: GraphStore, seed: int) -> None:
    rng = random.Random(seed)
    vendor, other = make_org("V"), make_org("W")
    partners = [make_org(f"P{n}") for n in range(6)]
    for org in (vendor, other, *partners):
        await store.create_org(org)
    everyone = [vendor, other, *partners]
    base = at(0)

    def moment() -> datetime:
        # Whole and half days over 40 days: many exact collisions, also with window ends.
        return base + timedelta(days=rng.randrange(40), hours=rng.choice([0, 0, 12]))

    opps: list[Opportunity] = []
    touches: list[Touch] = []
    for org in (vendor, other):
        accounts = await store.upsert_accounts(
            org.id,
            [make_upsert(f"acc-{n}", f"d{n}.com") for n in range(3)],
            expected_state=V1,
            at=base,
        )
        account_ids = {r.crm_id: r.account_id for r in accounts}
        rows = []
        for n in range(5):
            status = rng.choice([WON, WON, LOST, OPEN])
            rows.append(
                make_opportunity(
                    f"opp-{n}",
                    f"acc-{rng.randrange(3)}",
                    status=status,
                    closed_at=None if status is OPEN else moment(),
                )
            )
        await store.upsert_opportunities(org.id, rows, at=base)
        page = await store.list_opportunities(org.id, first=100)
        opps += page.items
        mine = list(page.items)
        batch = []
        for n in range(40):
            if rng.random() < 0.5:
                opp = rng.choice(mine)
                account_id, opp_id = opp.account_id, opp.id
            else:
                account_id, opp_id = rng.choice(list(account_ids.values())), None
            status = rng.choice([CONFIRMED, CONFIRMED, CONFIRMED, PENDING, REJECTED])
            partner = rng.choice(partners)
            batch.append(
                make_touch(
                    org.id,
                    partner.id,
                    account_id,
                    opportunity_id=opp_id,
                    external_id=f"t-{n}",
                    kind=rng.choice(list(TouchKind)),
                    when=moment(),
                    weight=Decimal(rng.randrange(1, 400)) / 100,
                    status=status,
                    recorded_by=org.id if status is CONFIRMED else partner.id,
                )
            )
        await store.record_touches(batch)
        touches += batch
    edges = []
    for _ in range(30):
        a, b = rng.sample(everyone, 2)
        credited = a if rng.random() < 0.4 else rng.choice([o for o in everyone if o not in (a, b)])
        edges.append(await introduce(store, credited.id, a.id, b.id, moment()))

    now = base + 35 * DAY
    ids = [o.id for o in opps] + ["nope"]
    for max_hops in (0, 1, 2, 3):
        for window in (5 * DAY, 10 * DAY, YEAR):
            got = await store.influence_paths(
                vendor.id, ids, max_hops=max_hops, window=window, now=now
            )
            want = reference_paths(
                vendor.id, opps, touches, edges, max_hops=max_hops, window=window, now=now
            )
            assert_same(got, want)
    # A batch in two halves gives the same as one.
    whole = await store.influence_paths(vendor.id, ids, max_hops=3, window=YEAR, now=now)
    halves = {
        **await store.influence_paths(vendor.id, ids[::2], max_hops=3, window=YEAR, now=now),
        **await store.influence_paths(vendor.id, ids[1::2], max_hops=3, window=YEAR, now=now),
    }
    assert_same(halves, whole)
    assert sum(len(p) for p in whole.values()) > 10  # the world is not degenerate
    assert any(p.hops >= 2 for ps in whole.values() for p in ps)
