"""Contract: opportunities (the vendor's pipeline), closing them, and settling the deal
registrations on a closed opportunity.

Money: an amount comes back as the very Decimal it was written as, value and scale:
Decimal("0.10") reads back as Decimal("0.10"), not Decimal("0.1") (trailing zeros are
kept), and nothing goes through a float. Amounts in exponent notation are not part of the
contract (stores may give them back in plain notation with the same value).

Account deletion: opportunities (and the registrations on them) outlive the account they
are on; they keep its id.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from graph.deals import DealReason, DealRole, DealStatus, OpportunityStatus
from graph.errors import BadInput
from graph.model import KeyState, Org
from graph.port import GraphStore
from resolvers.deals.rules import CLOSE_OUTCOMES
from tests.factories import at, make_opportunity, make_org, make_registration, make_upsert

V1 = KeyState()
OPEN, WON, LOST = OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST


async def vendor_with_accounts(store: GraphStore, *crm_ids: str) -> tuple[Org, dict[str, str]]:
    """A vendor org with one account per crm_id; returns the org and crm_id -> account id."""
    vendor = make_org("Vendor")
    await store.create_org(vendor)
    results = await store.upsert_accounts(
        vendor.id,
        [make_upsert(c, f"{c}.example") for c in crm_ids],
        expected_state=V1,
        at=at(0),
    )
    return vendor, {r.crm_id: r.account_id for r in results}


async def test_upsert_creates_then_replaces_by_crm_id(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1", "acc-2")
    row = make_opportunity(
        "opp-1", "acc-1", amount=Decimal("250000.00"), stage="Qualify", created_at=at(-60)
    )
    [write] = await store.upsert_opportunities(v.id, [row], at=at(1))
    assert (write.crm_id, write.opportunity_id, write.created) == ("opp-1", row.new_id, True)
    assert write.previous_status is None
    opp = (await store.get_opportunities(v.id, [row.new_id]))[row.new_id]
    assert (opp.id, opp.org_id, opp.crm_id, opp.account_id) == (
        row.new_id,
        v.id,
        "opp-1",
        acc["acc-1"],
    )
    assert (opp.name, opp.amount, opp.currency, opp.stage, opp.status) == (
        "Opportunity opp-1",
        Decimal("250000.00"),
        "EUR",
        "Qualify",
        OPEN,
    )
    assert (opp.created_at, opp.closed_at, opp.updated_at) == (at(-60), None, at(1))

    again = make_opportunity(
        "opp-1",
        "acc-2",
        name="Renamed",
        amount=Decimal("7.5"),
        currency="USD",
        stage="Closed Won",
        status=WON,
        created_at=at(-30),
        closed_at=at(2),
    )
    [write] = await store.upsert_opportunities(v.id, [again], at=at(3))
    assert (write.opportunity_id, write.created, write.previous_status) == (
        row.new_id,
        False,
        OPEN,
    )
    opp = (await store.get_opportunities(v.id, [row.new_id]))[row.new_id]
    assert opp.id == row.new_id  # new_id of the second row is not used
    assert (opp.account_id, opp.name, opp.amount, opp.currency, opp.stage, opp.status) == (
        acc["acc-2"],
        "Renamed",
        Decimal("7.5"),
        "USD",
        "Closed Won",
        WON,
    )
    assert (opp.created_at, opp.closed_at, opp.updated_at) == (at(-30), at(2), at(3))
    assert await store.get_opportunities(v.id, [again.new_id]) == {}


async def test_row_on_an_unknown_account_writes_nothing(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1")
    good = make_opportunity("opp-1", "acc-1")
    lost = make_opportunity("opp-2", "no-such-account")
    also = make_opportunity("opp-3", "acc-1")
    writes = await store.upsert_opportunities(v.id, [good, lost, also], at=at(1))
    assert [w.crm_id for w in writes] == ["opp-1", "opp-2", "opp-3"]
    assert [w.opportunity_id for w in writes] == [good.new_id, None, also.new_id]
    assert not writes[1].created
    assert await store.get_opportunities(v.id, [lost.new_id]) == {}
    page = await store.list_opportunities(v.id, first=10)
    assert sorted(o.id for o in page.items) == sorted([good.new_id, also.new_id])
    assert {o.account_id for o in page.items} == {acc["acc-1"]}


async def test_duplicate_crm_ids_are_bad_input_and_write_nothing(store: GraphStore) -> None:
    v, _ = await vendor_with_accounts(store, "acc-1")
    with pytest.raises(BadInput):
        await store.upsert_opportunities(
            v.id,
            [
                make_opportunity("opp-0", "acc-1"),
                make_opportunity("opp-1", "acc-1"),
                make_opportunity("opp-1", "acc-1"),
            ],
            at=at(1),
        )
    assert (await store.list_opportunities(v.id, first=10)).items == []


AMOUNTS = [
    Decimal("1234567890.1234"),
    Decimal("0.10"),
    Decimal("0"),
    Decimal("0.00"),
    Decimal("100"),
    Decimal("1.000000"),
    Decimal("0.000001"),
    Decimal("99999999999999999999.99"),  # beyond a double's precision
    Decimal("-42.50"),
]


async def test_amounts_round_trip_exactly_with_their_scale(store: GraphStore) -> None:
    v, _ = await vendor_with_accounts(store, "acc-1")
    rows = [make_opportunity(f"opp-{i}", "acc-1", amount=a) for i, a in enumerate(AMOUNTS)]
    await store.upsert_opportunities(v.id, rows, at=at(1))
    got = await store.get_opportunities(v.id, [r.new_id for r in rows])
    for row in rows:
        amount = got[row.new_id].amount
        assert isinstance(amount, Decimal)
        assert amount == row.amount
        assert str(amount) == str(row.amount)  # trailing zeros kept: the scale is data
    listed = {o.id: o.amount for o in (await store.list_opportunities(v.id, first=20)).items}
    assert [str(listed[r.new_id]) for r in rows] == [str(a) for a in AMOUNTS]


async def test_opportunities_are_scoped_to_the_acting_org(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1")
    other = make_org("Other")
    await store.create_org(other)
    row = make_opportunity("opp-1", "acc-1")
    await store.upsert_opportunities(v.id, [row], at=at(1))
    assert await store.get_opportunities(other.id, [row.new_id]) == {}
    assert (await store.list_opportunities(other.id, first=10)).items == []
    assert (await store.list_opportunities(other.id, account_id=acc["acc-1"], first=10)).items == []
    assert await store.open_opportunities(other.id, acc["acc-1"], created_before=at(99)) == []
    closed = await store.close_opportunity(
        other.id, row.new_id, status=WON, closed_at=at(2), at=at(2)
    )
    assert closed is None
    # The other org has no account "acc-1": its row writes nothing, the vendor's stays.
    [write] = await store.upsert_opportunities(
        other.id, [make_opportunity("opp-1", "acc-1")], at=at(3)
    )
    assert write.opportunity_id is None
    opp = (await store.get_opportunities(v.id, [row.new_id]))[row.new_id]
    assert (opp.status, opp.updated_at) == (OPEN, at(1))


async def test_same_crm_id_in_two_orgs_are_two_opportunities(store: GraphStore) -> None:
    v, _ = await vendor_with_accounts(store, "acc-1")
    other = make_org("Other")
    await store.create_org(other)
    await store.upsert_accounts(
        other.id, [make_upsert("acc-1", "x.com")], expected_state=V1, at=at(0)
    )
    mine, theirs = make_opportunity("opp-1", "acc-1"), make_opportunity("opp-1", "acc-1")
    [a] = await store.upsert_opportunities(v.id, [mine], at=at(1))
    [b] = await store.upsert_opportunities(other.id, [theirs], at=at(1))
    assert a.created
    assert b.created
    assert a.opportunity_id == mine.new_id
    assert b.opportunity_id == theirs.new_id


async def test_list_filters_and_pages_by_id(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1", "acc-2")
    rows = [
        make_opportunity(
            f"opp-{i}",
            "acc-1" if i % 2 else "acc-2",
            status=(OPEN, WON, LOST)[i % 3],
            closed_at=None if i % 3 == 0 else at(5),
        )
        for i in range(10)
    ]
    await store.upsert_opportunities(v.id, rows, at=at(1))
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_opportunities(v.id, first=3, after=after)
        assert len(page.items) <= 3
        assert len(page.cursors) == len(page.items)
        seen += [o.id for o in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == sorted(r.new_id for r in rows)

    def ids(*, status: OpportunityStatus | None, account: str | None) -> list[str]:
        return sorted(
            r.new_id
            for r in rows
            if (status is None or r.status is status)
            and (account is None or r.account_crm_id == account)
        )

    for status in (None, OPEN, WON, LOST):
        for account in (None, "acc-1", "acc-2"):
            page = await store.list_opportunities(
                v.id,
                status=status,
                account_id=None if account is None else acc[account],
                first=20,
            )
            assert [o.id for o in page.items] == ids(status=status, account=account)
            assert not page.has_next


async def test_open_opportunities_created_before(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1", "acc-2")
    early = make_opportunity("early", "acc-1", created_at=at(1))
    earlier = make_opportunity("earlier", "acc-1", created_at=at(-5))
    at_cut = make_opportunity("at-cut", "acc-1", created_at=at(5))
    late = make_opportunity("late", "acc-1", created_at=at(9))
    won = make_opportunity("won", "acc-1", status=WON, created_at=at(0), closed_at=at(2))
    elsewhere = make_opportunity("elsewhere", "acc-2", created_at=at(0))
    await store.upsert_opportunities(
        v.id, [early, earlier, at_cut, late, won, elsewhere], at=at(10)
    )
    got = await store.open_opportunities(v.id, acc["acc-1"], created_before=at(5))
    assert [o.id for o in got] == [earlier.new_id, early.new_id]
    got = await store.open_opportunities(v.id, acc["acc-1"], created_before=at(10))
    assert [o.id for o in got] == [earlier.new_id, early.new_id, at_cut.new_id, late.new_id]
    assert await store.open_opportunities(v.id, acc["acc-1"], created_before=at(-5)) == []


async def test_close_opportunity_is_compare_and_set(store: GraphStore) -> None:
    v, _ = await vendor_with_accounts(store, "acc-1")
    row = make_opportunity("opp-1", "acc-1")
    await store.upsert_opportunities(v.id, [row], at=at(1))
    closed = await store.close_opportunity(v.id, row.new_id, status=WON, closed_at=at(2), at=at(3))
    assert closed is not None
    assert (closed.id, closed.status, closed.closed_at, closed.updated_at) == (
        row.new_id,
        WON,
        at(2),
        at(3),
    )
    assert (await store.get_opportunities(v.id, [row.new_id]))[row.new_id] == closed
    again = await store.close_opportunity(v.id, row.new_id, status=LOST, closed_at=at(4), at=at(4))
    assert again is None
    assert (await store.get_opportunities(v.id, [row.new_id]))[row.new_id].status is WON
    assert (
        await store.close_opportunity(v.id, "no-such-id", status=LOST, closed_at=at(4), at=at(4))
        is None
    )


async def test_opportunities_outlive_their_account(store: GraphStore) -> None:
    v, acc = await vendor_with_accounts(store, "acc-1")
    row = make_opportunity("opp-1", "acc-1")
    await store.upsert_opportunities(v.id, [row], at=at(1))
    assert await store.delete_accounts(v.id, ["acc-1"]) == ["acc-1"]
    opp = (await store.get_opportunities(v.id, [row.new_id]))[row.new_id]
    assert opp.account_id == acc["acc-1"]
    # With the account gone, a new row for it writes nothing.
    [write] = await store.upsert_opportunities(v.id, [make_opportunity("opp-2", "acc-1")], at=at(2))
    assert write.opportunity_id is None


# --- settling the registrations on a closed opportunity -----------------------------------


async def pipeline(store: GraphStore) -> tuple[Org, Org, Org, dict[str, str], list[str]]:
    """A vendor with accounts acc-1, acc-2, two partners, and two OPEN opportunities
    (one per account)."""
    v, acc = await vendor_with_accounts(store, "acc-1", "acc-2")
    p, q = make_org("P"), make_org("Q")
    await store.create_org(p)
    await store.create_org(q)
    rows = [make_opportunity("opp-1", "acc-1"), make_opportunity("opp-2", "acc-2")]
    await store.upsert_opportunities(v.id, rows, at=at(1))
    return v, p, q, acc, [r.new_id for r in rows]


async def test_settle_moves_registrations_on_a_closed_opportunity(store: GraphStore) -> None:
    v, p, q, acc, (o1, o2) = await pipeline(store)
    approved = await store.register_deal(
        make_registration(
            v.id,
            p.id,
            acc["acc-1"],
            opportunity_id=o1,
            status=DealStatus.APPROVED,
            reasons=(DealReason.AUTO_APPROVED,),
            expires_at=at(10_000),
            registered_at=at(2),
        )
    )
    pending = await store.register_deal(
        make_registration(
            v.id, q.id, acc["acc-1"], opportunity_id=o1, role=DealRole.SI, registered_at=at(3)
        )
    )
    rejected = await store.register_deal(
        make_registration(
            v.id,
            q.id,
            acc["acc-1"],
            opportunity_id=o1,
            role=DealRole.ISV,
            status=DealStatus.REJECTED,
            reasons=(DealReason.DIRECT_ONLY,),
            registered_at=at(4),
        )
    )
    elsewhere = await store.register_deal(
        make_registration(
            v.id,
            p.id,
            acc["acc-2"],
            opportunity_id=o2,
            status=DealStatus.APPROVED,
            expires_at=at(10_000),
            registered_at=at(5),
        )
    )
    # Nothing moves while the opportunity is open.
    assert (
        await store.settle_registrations(
            opportunity_ids=[o1, o2], outcomes=CLOSE_OUTCOMES, at=at(20), limit=100
        )
        == []
    )
    assert await store.close_opportunity(v.id, o1, status=WON, closed_at=at(30), at=at(30))
    moved = await store.settle_registrations(
        opportunity_ids=[o1], outcomes=CLOSE_OUTCOMES, at=at(31), limit=100
    )
    assert sorted(moved, key=lambda r: r.id) == sorted(
        [
            replace(approved, status=DealStatus.WON, updated_at=at(31)),
            replace(pending, status=DealStatus.REJECTED, updated_at=at(31)),
        ],
        key=lambda r: r.id,
    )
    stored = await store.get_deals(v.id, [approved.id, pending.id, rejected.id, elsewhere.id])
    assert stored[approved.id].status is DealStatus.WON
    assert stored[pending.id].status is DealStatus.REJECTED
    assert stored[rejected.id] == rejected
    assert stored[elsewhere.id] == elsewhere
    # Idempotent.
    assert (
        await store.settle_registrations(
            opportunity_ids=[o1], outcomes=CLOSE_OUTCOMES, at=at(32), limit=100
        )
        == []
    )
    assert (
        await store.settle_registrations(
            opportunity_ids=None, outcomes=CLOSE_OUTCOMES, at=at(32), limit=100
        )
        == []
    )
    history = await store.deal_history(v.id, approved.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, DealStatus.APPROVED),
        (DealStatus.APPROVED, DealStatus.WON),
    ]
    assert (history[-1].at, history[-1].actor_org, history[-1].actor_user) == (at(31), None, None)
    history = await store.deal_history(q.id, pending.id)
    assert history[-1].from_status is DealStatus.PENDING_REVIEW
    assert history[-1].to_status is DealStatus.REJECTED
    assert history[-1].actor_org is None
    # The claims were released: the exclusive slot on acc-1 and Q's SI claim are free.
    again = await store.register_deal(
        make_registration(v.id, q.id, acc["acc-1"], registered_at=at(40))
    )
    assert again.status is DealStatus.PENDING_REVIEW
    si_again = await store.register_deal(
        make_registration(v.id, q.id, acc["acc-1"], role=DealRole.SI, registered_at=at(41))
    )
    assert si_again.status is DealStatus.PENDING_REVIEW


async def test_settle_lost_any_opportunity_and_limit(store: GraphStore) -> None:
    v, p, q, acc, (o1, o2) = await pipeline(store)
    regs = []
    for i, (partner, account, opp) in enumerate(
        [(p, "acc-1", o1), (q, "acc-1", o1), (p, "acc-2", o2)]
    ):
        regs.append(
            await store.register_deal(
                make_registration(
                    v.id,
                    partner.id,
                    acc[account],
                    opportunity_id=opp,
                    role=DealRole.SI,
                    status=DealStatus.APPROVED,
                    expires_at=at(10_000),
                    registered_at=at(2 + i),
                )
            )
        )
    assert await store.close_opportunity(v.id, o1, status=LOST, closed_at=at(9), at=at(9))
    assert await store.close_opportunity(v.id, o2, status=WON, closed_at=at(9), at=at(9))
    first = await store.settle_registrations(
        opportunity_ids=None, outcomes=CLOSE_OUTCOMES, at=at(10), limit=2
    )
    assert len(first) == 2
    rest = await store.settle_registrations(
        opportunity_ids=None, outcomes=CLOSE_OUTCOMES, at=at(11), limit=2
    )
    assert len(rest) == 1
    moved = {r.id: r for r in first + rest}
    assert moved.keys() == {r.id for r in regs}
    assert moved[regs[0].id].status is DealStatus.LOST
    assert moved[regs[1].id].status is DealStatus.LOST
    assert moved[regs[2].id].status is DealStatus.WON
    stored = await store.get_deals(v.id, [r.id for r in regs])
    assert {i: r.status for i, r in stored.items()} == {i: r.status for i, r in moved.items()}
