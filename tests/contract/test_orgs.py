"""Contract: organizations. Runs against every backend through the `store` fixture."""

from __future__ import annotations

import pytest

from graph.errors import Conflict
from graph.model import OrgType
from graph.port import GraphStore
from tests.factories import make_org


async def test_created_org_reads_back_identically(store: GraphStore) -> None:
    org = make_org("Acme Cloud", types=(OrgType.ISV, OrgType.SI), region="NA", discoverable=True)
    await store.create_org(org)
    assert await store.get_orgs([org.id]) == {org.id: org}


async def test_get_orgs_returns_only_existing_ids(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    found = await store.get_orgs([a.id, "missing", b.id, a.id])
    assert found == {a.id: a, b.id: b}
    assert await store.get_orgs([]) == {}


async def test_duplicate_org_id_is_a_conflict_and_keeps_the_first(store: GraphStore) -> None:
    org = make_org("First")
    await store.create_org(org)
    with pytest.raises(Conflict):
        await store.create_org(make_org("Second", org_id=org.id))
    assert (await store.get_orgs([org.id]))[org.id].name == "First"


async def test_names_with_metacharacters_are_stored_verbatim(store: GraphStore) -> None:
    hostile = "Robert'); DROP TABLE orgs;-- }) MATCH (n) DETACH DELETE n //\u00e9\u4e2d"
    org = make_org(hostile)
    await store.create_org(org)
    assert (await store.get_orgs([org.id]))[org.id].name == hostile


async def test_list_orgs_pages_through_everything_in_id_order(store: GraphStore) -> None:
    orgs = [make_org() for _ in range(7)]
    for org in orgs:
        await store.create_org(org)
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_orgs(first=3, after=after)
        assert len(page.items) <= 3
        assert len(page.cursors) == len(page.items)
        seen += [o.id for o in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == sorted(o.id for o in orgs)


async def test_set_org_discoverable(store: GraphStore) -> None:
    org = make_org(discoverable=False)
    await store.create_org(org)
    updated = await store.set_org_discoverable(org.id, True)
    assert updated is not None
    assert updated.discoverable
    assert (await store.get_orgs([org.id]))[org.id].discoverable
    assert await store.set_org_discoverable("missing", True) is None


async def test_ping_answers(store: GraphStore) -> None:
    await store.ping()


async def test_apply_schema_is_idempotent(store: GraphStore) -> None:
    await store.apply_schema()
    await store.apply_schema()
    org = make_org()
    await store.create_org(org)
    assert org.id in await store.get_orgs([org.id])
