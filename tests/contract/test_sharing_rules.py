"""Contract: sharing rules are directional, per population, and replace on write."""

from __future__ import annotations

from graph.model import SharingLevel, SharingRule
from graph.port import GraphStore
from tests.factories import at, make_org


async def test_rules_are_directional_and_replace_on_write(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    first = SharingRule(a.id, b.id, "CUSTOMER", SharingLevel.COUNTS, (), at(1))
    await store.put_sharing_rule(first)
    details = SharingRule(
        a.id, b.id, "CUSTOMER", SharingLevel.DETAILS, ("owner", "stage"), at(2)
    )
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
