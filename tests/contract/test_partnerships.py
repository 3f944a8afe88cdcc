"""Contract: partnerships and their status transitions, scoped by the acting org."""

from __future__ import annotations

import asyncio

import pytest

from graph.errors import Conflict, NotFound
from graph.model import Org, PartnershipStatus
from graph.port import GraphStore
from tests.factories import at, make_org, make_partnership

INVITED, ACTIVE, DECLINED, ENDED = (
    PartnershipStatus.INVITED,
    PartnershipStatus.ACTIVE,
    PartnershipStatus.DECLINED,
    PartnershipStatus.ENDED,
)


async def three_orgs(store: GraphStore) -> tuple[Org, Org, Org]:
    a, b, c = make_org("A"), make_org("B"), make_org("C")
    for org in (a, b, c):
        await store.create_org(org)
    return a, b, c


async def test_inserted_partnership_is_visible_to_both_parties_only(store: GraphStore) -> None:
    a, b, c = await three_orgs(store)
    p = await store.insert_partnership(make_partnership(a, b))
    assert p.status is INVITED
    assert await store.get_partnerships(a.id, [p.id]) == {p.id: p}
    assert await store.get_partnerships(b.id, [p.id]) == {p.id: p}
    assert await store.get_partnerships(c.id, [p.id]) == {}
    assert await store.live_partnership(b.id, a.id) == p
    assert await store.live_partnership(c.id, a.id) is None


async def test_second_live_partnership_between_a_pair_is_a_conflict(store: GraphStore) -> None:
    a, b, _ = await three_orgs(store)
    await store.insert_partnership(make_partnership(a, b))
    with pytest.raises(Conflict):
        await store.insert_partnership(make_partnership(a, b))
    with pytest.raises(Conflict):
        await store.insert_partnership(make_partnership(b, a))


async def test_concurrent_invites_create_exactly_one(store: GraphStore) -> None:
    a, b, _ = await three_orgs(store)
    attempts = [make_partnership(a, b) for _ in range(4)] + [
        make_partnership(b, a) for _ in range(4)
    ]
    results = await asyncio.gather(
        *(store.insert_partnership(p) for p in attempts), return_exceptions=True
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    page = await store.list_partnerships(a.id, first=10)
    assert [p.id for p in page.items] == [created[0].id]


async def test_transition_is_compare_and_set(store: GraphStore) -> None:
    a, b, c = await three_orgs(store)
    p = await store.insert_partnership(make_partnership(a, b))
    # a stranger cannot touch it, whatever the status
    assert (
        await store.transition_partnership(
            c.id, p.id, expected=[INVITED], new_status=ACTIVE, at=at(100)
        )
        is None
    )
    accepted = await store.transition_partnership(
        b.id, p.id, expected=[INVITED], new_status=ACTIVE, at=at(101)
    )
    assert accepted is not None
    assert accepted.status is ACTIVE
    assert accepted.activated_at == at(101)
    assert accepted.updated_at == at(101)
    # a second accept finds the status changed and does nothing
    assert (
        await store.transition_partnership(
            b.id, p.id, expected=[INVITED], new_status=ACTIVE, at=at(102)
        )
        is None
    )
    ended = await store.transition_partnership(
        a.id, p.id, expected=[INVITED, ACTIVE], new_status=ENDED, at=at(103)
    )
    assert ended is not None
    assert ended.status is ENDED
    assert ended.ended_at == at(103)
    assert ended.ended_by == a.id
    assert ended.activated_at == at(101)
    assert (await store.get_partnerships(b.id, [p.id]))[p.id] == ended
    assert await store.live_partnership(a.id, b.id) is None


async def test_unknown_partnership_transition_is_none(store: GraphStore) -> None:
    a, _, _ = await three_orgs(store)
    assert (
        await store.transition_partnership(
            a.id, "nope", expected=[INVITED], new_status=ACTIVE, at=at(1)
        )
        is None
    )


async def test_reinvite_after_ended_or_declined_creates_a_new_partnership(
    store: GraphStore,
) -> None:
    a, b, _ = await three_orgs(store)
    first = await store.insert_partnership(make_partnership(a, b))
    await store.transition_partnership(
        b.id, first.id, expected=[INVITED], new_status=DECLINED, at=at(10)
    )
    second = await store.insert_partnership(make_partnership(b, a))
    await store.transition_partnership(
        a.id, second.id, expected=[INVITED], new_status=ACTIVE, at=at(11)
    )
    await store.transition_partnership(
        a.id, second.id, expected=[ACTIVE], new_status=ENDED, at=at(12)
    )
    third = await store.insert_partnership(make_partnership(a, b))
    assert len({first.id, second.id, third.id}) == 3
    live = await store.live_partnership(a.id, b.id)
    assert live is not None
    assert live.id == third.id


async def test_list_partnerships_filters_by_status_and_pages_newest_first(
    store: GraphStore,
) -> None:
    hub = make_org("Hub")
    await store.create_org(hub)
    spokes = [make_org(f"Spoke {i}") for i in range(5)]
    made = []
    for i, spoke in enumerate(spokes):
        await store.create_org(spoke)
        made.append(await store.insert_partnership(make_partnership(hub, spoke, created=at(i))))
    for p in made[:2]:
        await store.transition_partnership(
            p.invitee_id, p.id, expected=[INVITED], new_status=ACTIVE, at=at(50)
        )
    outsider = make_org("Outsider")
    await store.create_org(outsider)
    await store.insert_partnership(make_partnership(outsider, spokes[0]))

    everything: list[str] = []
    after = None
    while True:
        page = await store.list_partnerships(hub.id, first=2, after=after)
        everything += [p.id for p in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert everything == [p.id for p in reversed(made)]

    active = await store.list_partnerships(hub.id, status=ACTIVE, first=10)
    assert {p.id for p in active.items} == {made[0].id, made[1].id}
    assert not active.has_next
    invited = await store.list_partnerships(hub.id, status=INVITED, first=10)
    assert {p.id for p in invited.items} == {p.id for p in made[2:]}
    spoke_view = await store.list_partnerships(spokes[0].id, first=10)
    assert len(spoke_view.items) == 2


async def test_counterparties_are_orgs_with_any_partnership_history(store: GraphStore) -> None:
    a, b, c = await three_orgs(store)
    d = make_org("D")
    await store.create_org(d)
    p = await store.insert_partnership(make_partnership(a, b))
    await store.transition_partnership(
        b.id, p.id, expected=[INVITED], new_status=DECLINED, at=at(5)
    )
    await store.insert_partnership(make_partnership(c, a))
    assert await store.counterparties(a.id, [b.id, c.id, d.id, "missing"]) == {b.id, c.id}
    assert await store.counterparties(d.id, [a.id, b.id, c.id]) == set()
    assert await store.counterparties(b.id, [a.id, c.id]) == {a.id}
    assert await store.counterparties(a.id, []) == set()


async def test_partnership_with_a_missing_org_is_not_found(store: GraphStore) -> None:
    a, _, _ = await three_orgs(store)
    ghost = make_org("Ghost")  # never stored
    with pytest.raises(NotFound):
        await store.insert_partnership(make_partnership(a, ghost))
    assert (await store.list_partnerships(a.id, first=10)).items == []
