"""Contract: discovery candidates (who may be suggested, in which order) and the raw
signals discovery scores from (customer overlap, deals won together)."""

from __future__ import annotations

from dataclasses import replace

from graph.deals import DealRole, DealStatus, DealTransition
from graph.intros import Candidate, CandidateSignals
from graph.model import KeyKind, KeyState, Org, PartnershipStatus
from graph.port import GraphStore
from tests.factories import at, link, make_org, make_registration, make_upsert

V1 = KeyState()
INVITED, ACTIVE = PartnershipStatus.INVITED, PartnershipStatus.ACTIVE
ENDED, DECLINED = PartnershipStatus.ENDED, PartnershipStatus.DECLINED


async def orgs(store: GraphStore, *specs: tuple[str, bool]) -> list[Org]:
    """Orgs with these ids and discoverable flags, created in the store."""
    made = [make_org(org_id, org_id=org_id, discoverable=flag) for org_id, flag in specs]
    for org in made:
        await store.create_org(org)
    return made


async def candidate_ids(store: GraphStore, org: Org, limit: int = 100) -> list[str]:
    return [c.org_id for c in await store.discovery_candidates(org.id, limit=limit)]


# --- discovery_candidates -----------------------------------------------------------------


async def test_discoverable_orgs_are_candidates_not_self_nor_hidden_ones(
    store: GraphStore,
) -> None:
    me, d1, d2, hidden = await orgs(
        store, ("org-me", True), ("org-d1", True), ("org-d2", True), ("org-hidden", False)
    )
    found = await store.discovery_candidates(me.id, limit=10)
    assert found == [
        Candidate(d1.id, discoverable=True, shared_partners=()),
        Candidate(d2.id, discoverable=True, shared_partners=()),
    ]
    # The hidden org sees the discoverable ones (itself and nothing else excluded).
    assert await candidate_ids(store, hidden) == [d1.id, d2.id, me.id]
    assert await store.discovery_candidates("org-unknown", limit=10) == [
        Candidate(x.id, True, ()) for x in (d1, d2, me)
    ]


async def test_hidden_orgs_only_through_a_shared_active_partner(store: GraphStore) -> None:
    me, v, w, h1, h2, h3, h4, h5 = await orgs(
        store,
        ("org-me", False),
        ("org-v", False),  # my ACTIVE partner
        ("org-w", False),  # my INVITED partner
        ("org-h1", False),  # ACTIVE with v: in
        ("org-h2", False),  # INVITED with v: out
        ("org-h3", False),  # ENDED with v: out
        ("org-h4", False),  # ACTIVE with w, whom I only invited: out
        ("org-h5", False),  # DECLINED by v: out
    )
    await link(store, me, v, ACTIVE)
    await link(store, w, me, INVITED)
    await link(store, v, h1, ACTIVE)
    await link(store, v, h2, INVITED)
    await link(store, h3, v, ENDED)
    await link(store, h4, w, ACTIVE)
    await link(store, v, h5, DECLINED)
    found = await store.discovery_candidates(me.id, limit=10)
    assert found == [Candidate(h1.id, discoverable=False, shared_partners=(v.id,))]
    # The other way round, too: h1 finds me through v (and v's other live partners
    # are not h1's candidates unless they share v ACTIVE).
    assert await store.discovery_candidates(h1.id, limit=10) == [
        Candidate(me.id, discoverable=False, shared_partners=(v.id,))
    ]


async def test_live_partners_out_ended_and_declined_back_in(store: GraphStore) -> None:
    me, d1, d2, d3, d4, v, h = await orgs(
        store,
        ("org-me", False),
        ("org-d1", True),
        ("org-d2", True),
        ("org-d3", True),
        ("org-d4", True),
        ("org-v", False),
        ("org-h", False),
    )
    await link(store, me, d1, INVITED)
    await link(store, d2, me, ACTIVE)
    await link(store, me, d3, ENDED)
    await link(store, d4, me, DECLINED)
    # h shares v with me but I already invited h: out.
    await link(store, me, v, ACTIVE)
    await link(store, h, v, ACTIVE)
    await link(store, me, h, INVITED)
    found = await store.discovery_candidates(me.id, limit=10)
    assert [c.org_id for c in found] == [d3.id, d4.id]
    assert all(c.shared_partners == () for c in found)


async def test_blocks_in_either_direction_take_orgs_out(store: GraphStore) -> None:
    me, d1, d2, d3, v, h = await orgs(
        store,
        ("org-me", False),
        ("org-d1", True),
        ("org-d2", True),
        ("org-d3", True),
        ("org-v", False),
        ("org-h", False),
    )
    await link(store, me, v, ACTIVE)
    await link(store, v, h, ACTIVE)
    assert await candidate_ids(store, me) == [h.id, d1.id, d2.id, d3.id]
    await store.set_block(me.id, d1.id, True, at=at(1))
    await store.set_block(d2.id, me.id, True, at=at(2))
    await store.set_block(h.id, me.id, True, at=at(3))
    assert await candidate_ids(store, me) == [d3.id]
    assert me.id not in await candidate_ids(store, d2)
    assert me.id not in await candidate_ids(store, h)
    # A block between two other orgs changes nothing for me.
    await store.set_block(d3.id, d1.id, True, at=at(4))
    assert await candidate_ids(store, me) == [d3.id]
    await store.set_block(me.id, d1.id, False, at=at(5))
    await store.set_block(h.id, me.id, False, at=at(6))
    assert await candidate_ids(store, me) == [h.id, d1.id, d3.id]


async def test_ordered_by_shared_partners_then_id_with_limit(store: GraphStore) -> None:
    me, v1, v2, v3, a, b, c, d, e = await orgs(
        store,
        ("org-me", False),
        ("org-v1", False),
        ("org-v2", False),
        ("org-v3", False),
        ("org-z", False),  # shares v1, v2, v3
        ("org-y", True),  # shares v2, v1 (and is discoverable)
        ("org-x", False),  # shares v3, v1
        ("org-b", True),  # discoverable, shares nothing
        ("org-a", True),  # discoverable, shares nothing
    )
    for v in (v1, v2, v3):
        await link(store, me, v, ACTIVE)
    for v in (v1, v2, v3):
        await link(store, a, v, ACTIVE)
    await link(store, v2, b, ACTIVE)
    await link(store, b, v1, ACTIVE)
    await link(store, v3, c, ACTIVE)
    await link(store, c, v1, ACTIVE)
    # Partnerships among my partners do not make them candidates (they are partners).
    await link(store, v1, v2, ACTIVE)
    everyone = await store.discovery_candidates(me.id, limit=10)
    assert everyone == [
        Candidate(a.id, False, (v1.id, v2.id, v3.id)),
        Candidate(c.id, False, (v1.id, v3.id)),
        Candidate(b.id, True, (v1.id, v2.id)),
        Candidate(e.id, True, ()),
        Candidate(d.id, True, ()),
    ]
    assert await store.discovery_candidates(me.id, limit=3) == everyone[:3]
    assert await store.discovery_candidates(me.id, limit=4) == everyone[:4]
    assert await store.discovery_candidates(me.id, limit=0) == []
    # Ending one shared partnership lowers the count; ending mine with v3 drops it
    # from every candidate.
    assert [c.org_id for c in await store.discovery_candidates(me.id, limit=1)] == [a.id]
    ended = await store.live_partnership(me.id, v3.id)
    assert ended is not None
    await store.transition_partnership(
        me.id, ended.id, expected=[ACTIVE], new_status=ENDED, at=at(50)
    )
    after = await store.discovery_candidates(me.id, limit=10)
    assert after[:3] == [
        Candidate(b.id, True, (v1.id, v2.id)),  # org-y before org-z now
        Candidate(a.id, False, (v1.id, v2.id)),
        Candidate(c.id, False, (v1.id,)),
    ]
    assert v3.id not in [x.org_id for x in after]  # no longer live: ENDED


# --- candidate_signals --------------------------------------------------------------------


async def test_customer_overlap_counts_my_distinct_accounts_in_the_population(
    store: GraphStore,
) -> None:
    me, c1, c2, c3, x = await orgs(
        store,
        ("org-me", False),
        ("org-c1", True),
        ("org-c2", True),
        ("org-c3", True),
        ("org-x", True),
    )
    customer, prospect, both = ("CUSTOMER",), ("PROSPECT",), ("CUSTOMER", "PROSPECT")
    duns = KeyKind.DUNS

    async def load(org: Org, *rows: tuple[str, tuple[str, ...], tuple[str, ...], KeyKind]) -> None:
        await store.upsert_accounts(
            org.id,
            [
                make_upsert(crm, *keys, populations=pops, kind=kind)
                for crm, keys, pops, kind in rows
            ],
            expected_state=V1,
            at=at(0),
        )

    dom = KeyKind.DOMAIN
    await load(
        me,
        ("m1", ("acme.com",), customer, dom),
        ("m1d", ("111111111",), customer, duns),
        ("m2", ("globex.com",), both, dom),
        ("m3", ("initech.com",), prospect, dom),
        ("m4", ("444444444",), customer, duns),
        ("m5", ("hooli.com", "hooli.io"), customer, dom),
        ("m6", ("lonely.com",), customer, dom),
    )
    await load(
        c1,
        ("a1", ("acme.com",), customer, dom),
        ("a1b", ("acme.com",), customer, dom),  # a second match for m1: m1 counts once
        ("a2", ("globex.com",), prospect, dom),  # CUSTOMER: not in population
        ("a3", ("initech.com",), customer, dom),  # m3 is a PROSPECT only
        ("a5", ("hooli.com", "hooli.io"), both, dom),  # two shared keys: m5 counts once
    )
    await load(c2, ("b1", ("444444444",), customer, duns))  # matches on a DUNS key
    await load(
        x,  # not a candidate: shares everything with me and with c3
        ("x1", ("acme.com",), customer, dom),
        ("x2", ("globex.com",), both, dom),
        ("x3", ("hooli.com",), customer, dom),
        ("x4", ("444444444",), customer, duns),
        ("x5", ("c3only.com",), customer, dom),
    )
    await load(c3, ("c31", ("c3only.com",), customer, dom))
    # m1d shares a key with c1's DUNS account below, which is not in CUSTOMER.
    await load(c1, ("a6", ("111111111",), prospect, duns))

    ids = [c1.id, c2.id, c3.id, "org-nobody"]
    signals = await store.candidate_signals(me.id, ids, population="CUSTOMER")
    assert signals == {
        c1.id: CandidateSignals(c1.id, customer_overlap=2, co_won_deals=0),  # m1, m5
        c2.id: CandidateSignals(c2.id, customer_overlap=1, co_won_deals=0),  # m4
        c3.id: CandidateSignals(c3.id, customer_overlap=0, co_won_deals=0),
        "org-nobody": CandidateSignals("org-nobody", 0, 0),
    }
    prospects = await store.candidate_signals(me.id, ids, population="PROSPECT")
    assert prospects[c1.id] == CandidateSignals(c1.id, 1, 0)  # m2 with a2
    assert prospects[c2.id] == CandidateSignals(c2.id, 0, 0)
    # Seen from c1: its CUSTOMER accounts a1, a1b, a5 overlap mine in CUSTOMER.
    back = await store.candidate_signals(c1.id, [me.id], population="CUSTOMER")
    assert back == {me.id: CandidateSignals(me.id, 3, 0)}
    assert await store.candidate_signals(me.id, [], population="CUSTOMER") == {}
    assert await store.candidate_signals(me.id, [c1.id], population="NONE") == {
        c1.id: CandidateSignals(c1.id, 0, 0)
    }


async def won(
    store: GraphStore,
    vendor: Org,
    partner: Org,
    account_id: str,
    product_line: str = "",
    *,
    role: DealRole = DealRole.SI,
    status: DealStatus = DealStatus.WON,
) -> None:
    """A registration of `partner` with `vendor`, registered then moved to `status`."""
    r = make_registration(vendor.id, partner.id, account_id, role=role, product_line=product_line)
    stored = await store.register_deal(r)
    assert stored.status is DealStatus.PENDING_REVIEW
    if status is DealStatus.PENDING_REVIEW:
        return
    moved = await store.update_deal(
        stored,
        replace(stored, status=status, updated_at=at(90)),
        DealTransition(r.id, at(90), stored.status, status, vendor.id, "vendor-user"),
    )
    assert moved is not None
    assert moved.status is status


async def test_co_won_deals_counts_distinct_deals_both_won(store: GraphStore) -> None:
    me, c1, c2, c3, x, v, w = await orgs(
        store,
        ("org-me", False),
        ("org-c1", True),
        ("org-c2", True),
        ("org-c3", True),
        ("org-x", True),
        ("org-v", False),
        ("org-w", False),
    )
    results = await store.upsert_accounts(
        v.id,
        [make_upsert(f"va{i}", f"v{i}.com") for i in range(1, 5)],
        expected_state=V1,
        at=at(0),
    )
    va = {r.crm_id: r.account_id for r in results}
    [wa] = await store.upsert_accounts(
        w.id, [make_upsert("wa1", "w1.com")], expected_state=V1, at=at(0)
    )
    # 1: (v, va1, "") both WON; I won it twice (two roles): one deal.
    await won(store, v, me, va["va1"], role=DealRole.SI)
    await won(store, v, me, va["va1"], role=DealRole.ISV)
    await won(store, v, c1, va["va1"], role=DealRole.RESELLER)
    # 2: (v, va2, "cloud") both WON, c1 twice.
    await won(store, v, me, va["va2"], "cloud")
    await won(store, v, c1, va["va2"], "cloud", role=DealRole.SI)
    await won(store, v, c1, va["va2"], "cloud", role=DealRole.ISV)
    # Not deals won together: other product lines, other statuses.
    await won(store, v, me, va["va2"], "onprem")
    await won(store, v, c1, va["va2"], "edge")
    await won(store, v, me, va["va3"])
    await won(store, v, c2, va["va3"], status=DealStatus.LOST)
    await won(store, v, c2, va["va3"], "x")
    await won(store, v, me, va["va3"], "x", status=DealStatus.APPROVED)
    await won(store, v, me, va["va4"], status=DealStatus.PENDING_REVIEW)
    await won(store, v, c2, va["va4"])
    # w's deal: c2 and I both won it.
    await won(store, w, me, wa.account_id)
    await won(store, w, c2, wa.account_id)
    # Others' deals do not leak: x and c3 won va4 "z" together, I did not take part;
    # x and I won va3 "" together, but x is no candidate.
    await won(store, v, x, va["va4"], "z")
    await won(store, v, c3, va["va4"], "z")
    await won(store, v, x, va["va3"])

    signals = await store.candidate_signals(me.id, [c1.id, c2.id, c3.id], population="CUSTOMER")
    assert signals == {
        c1.id: CandidateSignals(c1.id, 0, 2),
        c2.id: CandidateSignals(c2.id, 0, 1),
        c3.id: CandidateSignals(c3.id, 0, 0),
    }
    # The vendor itself holds no registration as a partner: nothing won with it.
    assert await store.candidate_signals(me.id, [v.id], population="CUSTOMER") == {
        v.id: CandidateSignals(v.id, 0, 0)
    }
    assert (await store.candidate_signals(c3.id, [x.id], population="CUSTOMER"))[
        x.id
    ].co_won_deals == 1
