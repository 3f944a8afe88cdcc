"""Contract: sharing rules are directional, per population, and replace on write."""

from __future__ import annotations

from graph.model import PartnershipStatus, SharingLevel, SharingRule
from graph.port import GraphStore
from tests.factories import at, make_org, make_partnership


async def test_rules_are_directional_and_replace_on_write(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    first = SharingRule(a.id, b.id, "CUSTOMER", SharingLevel.COUNTS, (), at(1))
    await store.put_sharing_rule(first)
    details = SharingRule(a.id, b.id, "CUSTOMER", SharingLevel.DETAILS, ("owner", "stage"), at(2))
    prospects = SharingRule(a.id, b.id, "PROSPECT", SharingLevel.OVERLAPS, (), at(3))
    assert await store.put_sharing_rule(details) == details
    await store.put_sharing_rule(prospects)
    assert await store.sharing_rules(a.id, b.id) == [details, prospects]
    assert await store.sharing_rules(b.id, a.id) == []


async def test_custom_population_names_round_trip(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    rule = SharingRule(a.id, b.id, "Strategic 'EMEA' 2027", SharingLevel.HIDDEN, (), at(5))
    await store.put_sharing_rule(rule)
    assert await store.sharing_rules(a.id, b.id) == [rule]


async def test_ending_or_declining_removes_the_pairs_rules_only(store: GraphStore) -> None:
    a, b, c = make_org(), make_org(), make_org()
    for org in (a, b, c):
        await store.create_org(org)
    ab = await store.insert_partnership(make_partnership(a, b))
    ac = await store.insert_partnership(make_partnership(a, c))
    for p, other in ((ab, b), (ac, c)):
        await store.transition_partnership(
            other.id,
            p.id,
            expected=[PartnershipStatus.INVITED],
            new_status=PartnershipStatus.ACTIVE,
            at=at(1),
        )
    for src, dst in ((a, b), (b, a), (a, c)):
        await store.put_sharing_rule(
            SharingRule(src.id, dst.id, "CUSTOMER", SharingLevel.COUNTS, (), at(2))
        )
    await store.transition_partnership(
        b.id,
        ab.id,
        expected=[PartnershipStatus.ACTIVE],
        new_status=PartnershipStatus.ENDED,
        at=at(3),
    )
    assert await store.sharing_rules(a.id, b.id) == []
    assert await store.sharing_rules(b.id, a.id) == []
    assert len(await store.sharing_rules(a.id, c.id)) == 1

    # a failed compare-and-set changes nothing
    await store.transition_partnership(
        a.id,
        ac.id,
        expected=[PartnershipStatus.INVITED],
        new_status=PartnershipStatus.DECLINED,
        at=at(4),
    )
    assert len(await store.sharing_rules(a.id, c.id)) == 1
