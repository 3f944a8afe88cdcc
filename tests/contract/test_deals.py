"""Contract: deal programs, direct-only accounts, accounts by key, and deal registrations:
first-in claims (also under concurrency), lazy expiry, compare-and-set transitions,
expiry, history, visibility and stats."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    DealTransition,
)
from graph.errors import Conflict
from graph.model import HashedKey, KeyKind, KeyState, Org
from graph.port import GraphStore
from tests.factories import (
    at,
    fake_hash,
    make_org,
    make_registration,
    make_upsert,
    new_id,
)

V1 = KeyState()
PENDING, APPROVED, REJECTED = DealStatus.PENDING_REVIEW, DealStatus.APPROVED, DealStatus.REJECTED
WON, EXPIRED, WITHDRAWN = DealStatus.WON, DealStatus.EXPIRED, DealStatus.WITHDRAWN
FAR = at(100_000)


@dataclass
class World:
    vendor: Org
    p: Org  # a partner
    q: Org  # another partner
    x: Org  # a third org (also a vendor, with its own account "acc-1")
    acc: dict[str, str]  # the vendor's accounts: crm_id -> id
    x_acc: dict[str, str]


async def world(store: GraphStore) -> World:
    vendor, p, q, x = make_org("V"), make_org("P"), make_org("Q"), make_org("X")
    for org in (vendor, p, q, x):
        await store.create_org(org)
    results = await store.upsert_accounts(
        vendor.id,
        [
            make_upsert("acc-1", "acme.com"),
            make_upsert("acc-2", "globex.com"),
            make_upsert("acc-3", "123456789", kind=KeyKind.DUNS),
        ],
        expected_state=V1,
        at=at(0),
    )
    x_results = await store.upsert_accounts(
        x.id, [make_upsert("acc-1", "acme.com")], expected_state=V1, at=at(0)
    )
    return World(
        vendor,
        p,
        q,
        x,
        {r.crm_id: r.account_id for r in results},
        {r.crm_id: r.account_id for r in x_results},
    )


def reg(w: World, partner: Org, account: str = "acc-1", **kwargs: Any) -> DealRegistration:
    return make_registration(w.vendor.id, partner.id, w.acc[account], **kwargs)


# --- programs ----------------------------------------------------------------------------


async def test_program_defaults_then_round_trips(store: GraphStore) -> None:
    w = await world(store)
    assert await store.deal_program(w.vendor.id) == DealProgram(w.vendor.id)
    program = DealProgram(
        vendor_org=w.vendor.id,
        exclusive_roles=frozenset({DealRole.RESELLER}),
        expiry_days=60,
        extension_days=15,
        max_extensions=3,
        existing_pipeline_blocks=True,
        auto_approve_roles=frozenset({DealRole.SI, DealRole.ISV}),
        auto_approve_max_amount=Decimal("25000.50"),
        direct_only_populations=frozenset({"STRATEGIC", "GOV"}),
        updated_at=at(5),
    )
    assert await store.put_deal_program(program) == program
    got = await store.deal_program(w.vendor.id)
    assert got == program
    assert isinstance(got.exclusive_roles, frozenset)
    assert str(got.auto_approve_max_amount) == "25000.50"
    replaced = DealProgram(
        vendor_org=w.vendor.id,
        exclusive_roles=frozenset(),
        auto_approve_max_amount=None,
        direct_only_populations=frozenset(),
        updated_at=at(6),
    )
    await store.put_deal_program(replaced)
    assert await store.deal_program(w.vendor.id) == replaced
    assert await store.deal_program(w.x.id) == DealProgram(w.x.id)


# --- direct-only accounts -----------------------------------------------------------------


async def test_direct_only_set_unset_and_scoping(store: GraphStore) -> None:
    w = await world(store)
    a1, a2, a3 = w.acc["acc-1"], w.acc["acc-2"], w.acc["acc-3"]
    marked = await store.set_direct_only(
        w.vendor.id, [a1, a2, w.x_acc["acc-1"], "no-such-account"], True
    )
    assert sorted(marked) == sorted([a1, a2])
    assert await store.set_direct_only(w.vendor.id, [a1], True) == [a1]  # idempotent
    assert await store.direct_only_accounts(w.vendor.id, [a1, a2, a3, "nope"]) == {a1, a2}
    # Another org can neither mark nor see the vendor's accounts.
    assert await store.set_direct_only(w.x.id, [a3], True) == []
    assert await store.direct_only_accounts(w.x.id, [a1, a2, a3]) == set()
    assert await store.direct_only_accounts(w.vendor.id, [a3]) == set()
    assert await store.set_direct_only(w.x.id, [a1], False) == []
    assert await store.direct_only_accounts(w.vendor.id, [a1]) == {a1}
    assert sorted(await store.set_direct_only(w.vendor.id, [a1, a3], False)) == sorted([a1, a3])
    assert await store.direct_only_accounts(w.vendor.id, [a1, a2, a3]) == {a2}
    assert await store.direct_only_accounts(w.vendor.id, []) == set()


# --- accounts by key ----------------------------------------------------------------------


async def test_accounts_by_keys(store: GraphStore) -> None:
    w = await world(store)
    acme = HashedKey(KeyKind.DOMAIN, fake_hash("acme.com"))
    found = await store.accounts_by_keys(w.vendor.id, [acme])
    assert [a.id for a in found] == [w.acc["acc-1"]]
    assert found[0].org_id == w.vendor.id
    assert found[0].keys[0].h == fake_hash("acme.com")
    # The other org's account with the same key is not among the vendor's, and v.v.
    assert [a.id for a in await store.accounts_by_keys(w.x.id, [acme])] == [w.x_acc["acc-1"]]
    # The kind must match.
    wrong_kind = HashedKey(KeyKind.NAME, fake_hash("acme.com"))
    assert await store.accounts_by_keys(w.vendor.id, [wrong_kind]) == []
    # The target hash matches too (during a key rotation).
    by_target = HashedKey(KeyKind.DUNS, fake_hash("unknown"), target=fake_hash("123456789"))
    assert [a.id for a in await store.accounts_by_keys(w.vendor.id, [by_target])] == [
        w.acc["acc-3"]
    ]
    several = await store.accounts_by_keys(
        w.vendor.id,
        [
            HashedKey(KeyKind.DOMAIN, fake_hash("globex.com")),
            acme,
            HashedKey(KeyKind.DOMAIN, fake_hash("acme.com"), target=fake_hash("globex.com")),
            HashedKey(KeyKind.DOMAIN, fake_hash("nobody.com")),
        ],
    )
    assert [a.id for a in several] == sorted([w.acc["acc-1"], w.acc["acc-2"]])
    assert await store.accounts_by_keys(w.vendor.id, []) == []


# --- registering: first claim wins --------------------------------------------------------


async def test_first_claim_wins_and_the_second_is_a_duplicate(store: GraphStore) -> None:
    w = await world(store)
    first = reg(w, w.p, registered_at=at(1), amount=Decimal("1234567890.1234"))
    stored = await store.register_deal(first)
    assert stored == first
    assert await store.get_deals(w.vendor.id, [first.id]) == {first.id: first}
    assert str((await store.get_deals(w.p.id, [first.id]))[first.id].amount) == "1234567890.1234"

    second = reg(w, w.q, registered_at=at(2), reasons=(DealReason.NEW_PROSPECT,))
    assert second.claim_key == first.claim_key
    stored = await store.register_deal(second)
    expected = replace(
        second,
        status=REJECTED,
        reasons=(DealReason.NEW_PROSPECT, DealReason.DUPLICATE),
    )
    assert stored == expected
    assert await store.get_deals(w.q.id, [second.id]) == {second.id: expected}
    [entry] = await store.deal_history(w.q.id, second.id)
    assert entry == DealTransition(
        registration_id=second.id,
        at=at(2),
        from_status=None,
        to_status=REJECTED,
        actor_org=w.q.id,
        actor_user=second.registered_by,
    )
    # The same partner trying again is a duplicate too; the first is untouched.
    third = await store.register_deal(reg(w, w.p, registered_at=at(3), status=APPROVED))
    assert third.status is REJECTED
    assert third.reasons == (DealReason.DUPLICATE,)
    assert (await store.get_deals(w.vendor.id, [first.id]))[first.id] == first


async def test_other_product_lines_and_accounts_are_other_slots(store: GraphStore) -> None:
    w = await world(store)
    regs = [
        reg(w, w.p, registered_at=at(1)),
        reg(w, w.q, registered_at=at(2), product_line="analytics"),
        reg(w, w.q, "acc-2", registered_at=at(3)),
        reg(w, w.q, registered_at=at(4), role=DealRole.REFERRAL, product_line="storage"),
    ]
    assert len({r.claim_key for r in regs}) == 4
    for r in regs:
        assert (await store.register_deal(r)).status is PENDING


async def test_non_exclusive_roles_co_register(store: GraphStore) -> None:
    w = await world(store)
    regs = [
        reg(w, w.p, role=DealRole.RESELLER, registered_at=at(1)),
        reg(w, w.p, role=DealRole.SI, registered_at=at(2)),
        reg(w, w.q, role=DealRole.SI, registered_at=at(3)),
        reg(w, w.q, role=DealRole.ISV, registered_at=at(4), status=APPROVED, expires_at=FAR),
        reg(w, w.p, role=DealRole.INFLUENCER, registered_at=at(5)),
    ]
    stored = [await store.register_deal(r) for r in regs]
    assert stored == regs  # all live, as given
    # One partner holds one live claim per role on the slot.
    again = await store.register_deal(reg(w, w.q, role=DealRole.SI, registered_at=at(6)))
    assert (again.status, again.reasons) == (REJECTED, (DealReason.DUPLICATE,))
    page = await store.list_deals(
        w.vendor.id, side="vendor", statuses=[PENDING, APPROVED], first=10
    )
    assert sorted(r.id for r in page.items) == sorted(r.id for r in regs)


async def test_a_registration_that_is_not_live_takes_no_claim(store: GraphStore) -> None:
    w = await world(store)
    direct_only = reg(
        w, w.p, registered_at=at(1), status=REJECTED, reasons=(DealReason.DIRECT_ONLY,)
    )
    assert await store.register_deal(direct_only) == direct_only
    live = reg(w, w.q, registered_at=at(2))
    assert await store.register_deal(live) == live
    # A non-live registration arriving while the slot is held is stored as given.
    late = reg(
        w,
        w.p,
        registered_at=at(3),
        status=REJECTED,
        reasons=(DealReason.EXISTING_PIPELINE,),
    )
    assert await store.register_deal(late) == late
    assert (await store.get_deals(w.vendor.id, [live.id]))[live.id].status is PENDING


async def test_lazy_expiry_frees_the_slot(store: GraphStore) -> None:
    w = await world(store)
    old = reg(w, w.p, registered_at=at(1), status=APPROVED, expires_at=at(100))
    await store.register_deal(old)
    # Not yet expired at at(99): a duplicate.
    early = await store.register_deal(reg(w, w.q, registered_at=at(99)))
    assert early.status is REJECTED
    assert DealReason.DUPLICATE in early.reasons
    assert (await store.get_deals(w.vendor.id, [old.id]))[old.id] == old
    # expires_at <= registered_at: the old approval expires, the new one takes the slot.
    new = reg(w, w.q, registered_at=at(100))
    assert await store.register_deal(new) == new
    expired = (await store.get_deals(w.p.id, [old.id]))[old.id]
    assert expired == replace(old, status=EXPIRED, updated_at=at(100))
    history = await store.deal_history(w.vendor.id, old.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, APPROVED),
        (APPROVED, EXPIRED),
    ]
    assert (history[1].at, history[1].actor_org, history[1].actor_user) == (at(100), None, None)
    # The new one holds it now.
    after = await store.register_deal(reg(w, w.p, registered_at=at(101)))
    assert after.status is REJECTED


async def test_lazy_expiry_leaves_pending_registrations_alone(store: GraphStore) -> None:
    w = await world(store)
    pending = reg(w, w.p, registered_at=at(1), expires_at=at(2))  # pending never expires
    await store.register_deal(pending)
    late = await store.register_deal(reg(w, w.q, registered_at=at(50)))
    assert late.status is REJECTED
    assert (await store.get_deals(w.vendor.id, [pending.id]))[pending.id] == pending


async def test_duplicate_id_is_a_conflict(store: GraphStore) -> None:
    w = await world(store)
    first = reg(w, w.p, registered_at=at(1))
    await store.register_deal(first)
    with pytest.raises(Conflict):
        await store.register_deal(replace(first, partner_org=w.q.id, registered_at=at(2)))
    with pytest.raises(Conflict):  # same id on another slot
        await store.register_deal(replace(reg(w, w.q, "acc-2", registered_at=at(3)), id=first.id))
    assert await store.get_deals(w.vendor.id, [first.id]) == {first.id: first}
    assert len(await store.deal_history(w.vendor.id, first.id)) == 1


async def test_concurrent_registrations_for_one_slot_leave_exactly_one_live(
    store: GraphStore,
) -> None:
    w = await world(store)
    partners = [make_org(f"Partner {i}") for i in range(10)]
    for partner in partners:
        await store.create_org(partner)
    attempts = [
        make_registration(
            w.vendor.id,
            partners[i % 10].id,
            w.acc["acc-1"],
            registered_at=at(1) + timedelta(milliseconds=i),
            status=APPROVED if i % 2 else PENDING,
            expires_at=FAR if i % 2 else None,
        )
        for i in range(50)
    ]
    assert len({a.claim_key for a in attempts}) == 1
    results = await asyncio.gather(
        *(store.register_deal(a) for a in attempts), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    stored = [r for r in results if isinstance(r, DealRegistration)]
    live = [r for r in stored if r.status.is_live]
    assert len(live) == 1
    rejected = [r for r in stored if not r.status.is_live]
    assert len(rejected) == 49
    assert all(r.status is REJECTED and r.reasons == (DealReason.DUPLICATE,) for r in rejected)
    on_record = await store.get_deals(w.vendor.id, [a.id for a in attempts])
    assert on_record == {r.id: r for r in stored}
    page = await store.list_deals(
        w.vendor.id, side="vendor", statuses=[PENDING, APPROVED], first=60
    )
    assert [r.id for r in page.items] == [live[0].id]


# --- reading: visibility, lists -----------------------------------------------------------


async def test_get_deals_is_visible_to_vendor_and_partner_only(store: GraphStore) -> None:
    w = await world(store)
    r = await store.register_deal(reg(w, w.p, registered_at=at(1)))
    assert await store.get_deals(w.vendor.id, [r.id, "nope"]) == {r.id: r}
    assert await store.get_deals(w.p.id, [r.id]) == {r.id: r}
    assert await store.get_deals(w.q.id, [r.id]) == {}
    assert await store.get_deals(w.x.id, [r.id]) == {}
    assert await store.get_deals(w.vendor.id, []) == {}


async def test_list_deals_by_side_and_filters_newest_first(store: GraphStore) -> None:
    w = await world(store)
    other_vendor = w.x
    ids = sorted(new_id() for _ in range(8))
    opp = new_id()
    specs = [
        (w.p, "acc-1", DealRole.RESELLER, PENDING, None),
        (w.q, "acc-1", DealRole.SI, APPROVED, opp),
        (w.p, "acc-2", DealRole.RESELLER, APPROVED, opp),
        (w.q, "acc-2", DealRole.ISV, PENDING, None),
        (w.p, "acc-3", DealRole.SI, REJECTED, None),
        (w.q, "acc-3", DealRole.INFLUENCER, PENDING, opp),
        (w.p, "acc-1", DealRole.ISV, APPROVED, None),
    ]
    regs = [
        reg(
            w,
            partner,
            account,
            rid=ids[i],
            role=role,
            status=status,
            expires_at=FAR if status is APPROVED else None,
            opportunity_id=opportunity,
            registered_at=at(i),
        )
        for i, (partner, account, role, status, opportunity) in enumerate(specs)
    ]
    for r in regs:
        assert await store.register_deal(r) == r
    # P registers with another vendor too.
    elsewhere = make_registration(other_vendor.id, w.p.id, w.x_acc["acc-1"], rid=ids[7])
    await store.register_deal(elsewhere)

    def newest_first(items: list[DealRegistration]) -> list[str]:
        return sorted((r.id for r in items), reverse=True)

    seen: list[str] = []
    after = None
    while True:
        page = await store.list_deals(w.vendor.id, side="vendor", first=3, after=after)
        assert len(page.items) <= 3
        assert len(page.cursors) == len(page.items)
        seen += [r.id for r in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == newest_first(regs)

    async def vendor(**kwargs: Any) -> list[str]:
        page = await store.list_deals(w.vendor.id, side="vendor", first=50, **kwargs)
        return [r.id for r in page.items]

    assert await vendor(statuses=[APPROVED]) == newest_first(
        [r for r in regs if r.status is APPROVED]
    )
    assert await vendor(statuses=[PENDING, REJECTED]) == newest_first(
        [r for r in regs if r.status in (PENDING, REJECTED)]
    )
    assert await vendor(statuses=[WON]) == []
    assert await vendor(account_id=w.acc["acc-1"]) == newest_first(
        [r for r in regs if r.account_id == w.acc["acc-1"]]
    )
    assert await vendor(opportunity_id=opp) == newest_first(
        [r for r in regs if r.opportunity_id == opp]
    )
    assert await vendor(counterparty=w.q.id) == newest_first(
        [r for r in regs if r.partner_org == w.q.id]
    )
    assert await vendor(counterparty=w.q.id, statuses=[PENDING], account_id=w.acc["acc-2"]) == [
        ids[3]
    ]
    assert await vendor(counterparty=w.x.id) == []

    async def partner(org: Org, **kwargs: Any) -> list[str]:
        page = await store.list_deals(org.id, side="partner", first=50, **kwargs)
        return [r.id for r in page.items]

    p_regs = [r for r in regs if r.partner_org == w.p.id]
    assert await partner(w.p) == newest_first([*p_regs, elsewhere])
    assert await partner(w.p, counterparty=w.vendor.id) == newest_first(p_regs)
    assert await partner(w.p, counterparty=other_vendor.id) == [elsewhere.id]
    assert await partner(w.p, statuses=[APPROVED]) == newest_first(
        [r for r in p_regs if r.status is APPROVED]
    )
    assert await partner(w.vendor) == []  # the vendor is nobody's partner here
    assert (await store.list_deals(w.p.id, side="vendor", first=50)).items == []
    assert (await store.list_deals(w.x.id, side="vendor", first=50)).items == [elsewhere]


async def test_deals_on_accounts(store: GraphStore) -> None:
    w = await world(store)
    ids = sorted(new_id() for _ in range(4))
    a = await store.register_deal(reg(w, w.p, rid=ids[2], registered_at=at(1)))
    b = await store.register_deal(reg(w, w.q, rid=ids[0], role=DealRole.SI, registered_at=at(2)))
    c = await store.register_deal(reg(w, w.q, "acc-2", rid=ids[1], registered_at=at(3)))
    await store.register_deal(
        make_registration(w.x.id, w.p.id, w.x_acc["acc-1"], rid=ids[3], registered_at=at(4))
    )
    assert await store.deals_on_accounts(w.vendor.id, [w.acc["acc-1"]]) == [b, a]
    assert await store.deals_on_accounts(w.vendor.id, [w.acc["acc-1"], w.acc["acc-2"]]) == [b, c, a]
    assert await store.deals_on_accounts(w.vendor.id, [w.acc["acc-3"]]) == []
    assert await store.deals_on_accounts(w.x.id, [w.acc["acc-1"]]) == []
    assert await store.deals_on_accounts(w.vendor.id, []) == []


# --- transitions --------------------------------------------------------------------------


def approve(r: DealRegistration, when: int) -> tuple[DealRegistration, DealTransition]:
    new = replace(
        r,
        status=APPROVED,
        updated_at=at(when),
        decided_at=at(when),
        decided_by="manager-1",
        decision_note="looks good",
        expires_at=at(when + 1000),
        credit=Credit.INFLUENCED,
    )
    return new, DealTransition(r.id, at(when), r.status, APPROVED, r.vendor_org, "manager-1", "ok")


async def test_update_deal_is_compare_and_set_with_history(store: GraphStore) -> None:
    w = await world(store)
    r = await store.register_deal(reg(w, w.p, registered_at=at(1)))
    approved, transition = approve(r, 5)
    assert await store.update_deal(r, approved, transition) == approved
    assert (await store.get_deals(w.p.id, [r.id]))[r.id] == approved
    history = await store.deal_history(w.vendor.id, r.id)
    assert history[-1] == transition
    assert len(history) == 2
    # Stale: the stored status is no longer PENDING_REVIEW.
    rejected = replace(r, status=REJECTED, updated_at=at(6))
    stale = DealTransition(r.id, at(6), PENDING, REJECTED, w.vendor.id, "manager-2")
    assert await store.update_deal(r, rejected, stale) is None
    assert (await store.get_deals(w.p.id, [r.id]))[r.id] == approved
    assert len(await store.deal_history(w.vendor.id, r.id)) == 2
    # Extensions are part of the compare: two extensions from the same state, one wins.
    ext = replace(approved, extensions=1, expires_at=at(3000), updated_at=at(7))
    ext_t = DealTransition(r.id, at(7), APPROVED, APPROVED, w.vendor.id, "manager-1", "extend")
    assert await store.update_deal(approved, ext, ext_t) == ext
    other_ext = replace(approved, extensions=1, expires_at=at(4000), updated_at=at(8))
    assert await store.update_deal(approved, other_ext, ext_t) is None
    assert (await store.get_deals(w.vendor.id, [r.id]))[r.id] == ext
    # Still live after the extension: the claim is still held.
    dup = await store.register_deal(reg(w, w.q, registered_at=at(9)))
    assert dup.status is REJECTED
    # An unknown registration: None.
    ghost = replace(r, id=new_id())
    assert await store.update_deal(ghost, replace(ghost, status=REJECTED), stale) is None


async def test_update_to_a_status_that_is_not_live_releases_the_claim(store: GraphStore) -> None:
    w = await world(store)
    r = await store.register_deal(reg(w, w.p, registered_at=at(1)))
    approved, transition = approve(r, 2)
    assert await store.update_deal(r, approved, transition)
    withdrawn = replace(approved, status=WITHDRAWN, updated_at=at(3))
    t = DealTransition(r.id, at(3), APPROVED, WITHDRAWN, w.p.id, "user-1", "changed plans")
    assert await store.update_deal(approved, withdrawn, t) == withdrawn
    newcomer = reg(w, w.q, registered_at=at(4))
    assert await store.register_deal(newcomer) == newcomer
    history = await store.deal_history(w.p.id, r.id)
    assert [h.to_status for h in history] == [PENDING, APPROVED, WITHDRAWN]
    assert history == sorted(history, key=lambda h: h.at)


async def test_expire_deals_earliest_first_with_limit(store: GraphStore) -> None:
    w = await world(store)
    r10 = await store.register_deal(
        reg(w, w.p, registered_at=at(1), status=APPROVED, expires_at=at(10))
    )
    r5 = await store.register_deal(
        reg(w, w.p, "acc-2", registered_at=at(2), status=APPROVED, expires_at=at(5))
    )
    r20 = await store.register_deal(
        reg(w, w.p, "acc-3", registered_at=at(3), status=APPROVED, expires_at=at(20))
    )
    pending = await store.register_deal(reg(w, w.q, role=DealRole.SI, registered_at=at(4)))
    assert await store.expire_deals(at(4), limit=10) == []
    first = await store.expire_deals(at(15), limit=1)
    assert first == [replace(r5, status=EXPIRED, updated_at=at(15))]
    second = await store.expire_deals(at(15), limit=10)
    assert second == [replace(r10, status=EXPIRED, updated_at=at(15))]
    assert await store.expire_deals(at(15), limit=10) == []
    stored = await store.get_deals(w.vendor.id, [r5.id, r10.id, r20.id, pending.id])
    assert stored[r5.id].status is EXPIRED
    assert stored[r10.id].status is EXPIRED
    assert stored[r20.id] == r20
    assert stored[pending.id] == pending
    history = await store.deal_history(w.p.id, r5.id)
    assert history[-1] == DealTransition(
        r5.id, at(15), APPROVED, EXPIRED, None, None, history[-1].note
    )
    # The claims are released.
    for account in ("acc-1", "acc-2"):
        fresh = await store.register_deal(reg(w, w.q, account, registered_at=at(16)))
        assert fresh.status is PENDING
    held = await store.register_deal(reg(w, w.q, "acc-3", registered_at=at(16)))
    assert held.status is REJECTED
    both = await store.expire_deals(at(30), limit=10)
    assert [r.id for r in both] == [r20.id]


async def test_deal_history_order_and_scoping(store: GraphStore) -> None:
    w = await world(store)
    r = await store.register_deal(reg(w, w.p, registered_at=at(1)))
    approved, t1 = approve(r, 2)
    await store.update_deal(r, approved, t1)
    won = replace(approved, status=WON, updated_at=at(3))
    t2 = DealTransition(r.id, at(3), APPROVED, WON, None, None, "opportunity won")
    await store.update_deal(approved, won, t2)
    history = await store.deal_history(w.vendor.id, r.id)
    assert history == [
        DealTransition(r.id, at(1), None, PENDING, w.p.id, r.registered_by),
        t1,
        t2,
    ]
    assert await store.deal_history(w.p.id, r.id) == history
    assert await store.deal_history(w.q.id, r.id) == []
    assert await store.deal_history(w.x.id, r.id) == []
    assert await store.deal_history(w.vendor.id, "nope") == []


async def test_deal_histories_batch_and_scoping(store: GraphStore) -> None:
    w = await world(store)
    r = await store.register_deal(reg(w, w.p, registered_at=at(1)))
    approved, t1 = approve(r, 2)
    await store.update_deal(r, approved, t1)
    other = await store.register_deal(reg(w, w.q, "acc-2", registered_at=at(3)))
    ids = [r.id, other.id, "nope"]
    both = await store.deal_histories(w.vendor.id, ids)
    assert both == {
        r.id: await store.deal_history(w.vendor.id, r.id),
        other.id: await store.deal_history(w.vendor.id, other.id),
    }
    assert len(both[r.id]) == 2
    assert await store.deal_histories(w.p.id, ids) == {r.id: both[r.id]}
    assert await store.deal_histories(w.x.id, ids) == {}
    assert await store.deal_histories(w.vendor.id, []) == {}


async def test_deal_stats(store: GraphStore) -> None:
    w = await world(store)
    silent = make_org("Silent")
    await store.create_org(silent)

    async def win(r: DealRegistration) -> None:
        approved, t = approve(r, 10)
        assert await store.update_deal(r, approved, t)
        won = replace(approved, status=WON, updated_at=at(11))
        assert await store.update_deal(
            approved, won, DealTransition(r.id, at(11), APPROVED, WON, None, None)
        )

    await win(await store.register_deal(reg(w, w.p, registered_at=at(1))))
    await store.register_deal(reg(w, w.p, "acc-2", registered_at=at(2)))
    await store.register_deal(
        reg(w, w.p, "acc-3", registered_at=at(3), status=APPROVED, expires_at=FAR)
    )
    await store.register_deal(reg(w, w.p, "acc-3", registered_at=at(4), status=REJECTED))
    await store.register_deal(reg(w, w.q, "acc-2", role=DealRole.SI, registered_at=at(5)))
    await store.register_deal(reg(w, w.q, "acc-2", registered_at=at(6)))  # duplicate
    # With another vendor: not counted for this one.
    await win(
        await store.register_deal(
            make_registration(w.x.id, w.q.id, w.x_acc["acc-1"], registered_at=at(7))
        )
    )
    stats = await store.deal_stats(w.vendor.id, [w.p.id, w.q.id, silent.id])
    assert {k: (s.won, s.live) for k, s in stats.items()} == {w.p.id: (1, 2), w.q.id: (0, 1)}
    assert {
        k: (s.won, s.live) for k, s in (await store.deal_stats(w.x.id, [w.q.id, w.p.id])).items()
    } == {w.q.id: (1, 0)}
    assert await store.deal_stats(w.vendor.id, []) == {}


async def test_concurrent_registrations_racing_a_lazy_expiry(store: GraphStore) -> None:
    w = await world(store)
    old = await store.register_deal(
        reg(w, w.p, registered_at=at(1), status=APPROVED, expires_at=at(10))
    )
    partners = [make_org(f"Partner {i}") for i in range(5)]
    for partner in partners:
        await store.create_org(partner)
    attempts = [
        make_registration(
            w.vendor.id,
            partners[i % 5].id,
            w.acc["acc-1"],
            registered_at=at(20) + timedelta(milliseconds=i),
        )
        for i in range(30)
    ]
    results = await asyncio.gather(
        *(store.register_deal(a) for a in attempts), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    stored = [r for r in results if isinstance(r, DealRegistration)]
    assert len([r for r in stored if r.status.is_live]) == 1
    assert all(r.reasons == (DealReason.DUPLICATE,) for r in stored if not r.status.is_live)
    assert (await store.get_deals(w.vendor.id, [old.id]))[old.id].status is EXPIRED
    history = await store.deal_history(w.vendor.id, old.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, APPROVED),
        (APPROVED, EXPIRED),
    ]
