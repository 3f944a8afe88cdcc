"""Contract: accounts, their hashed keys, and scoping by the acting org."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from graph.errors import BadInput, Conflict
from graph.model import HashedKey, KeyKind, KeyState, Org, StoredKey
from graph.port import GraphStore, ResettableStore
from tests.factories import at, fake_hash, make_org, make_upsert

V1 = KeyState()


async def two_orgs(store: GraphStore) -> tuple[Org, Org]:
    a, b = make_org("A"), make_org("B")
    await store.create_org(a)
    await store.create_org(b)
    return a, b


async def test_upsert_creates_then_replaces_by_crm_id(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    first = make_upsert(
        "crm-1",
        "acme.com",
        "acme.io",
        populations=("PROSPECT", "CUSTOMER"),
        fields=(("tier", "gold"), ("industry", "retail")),
    )
    [created] = await store.upsert_accounts(a.id, [first], expected_state=V1, at=at(1))
    assert created.created
    assert created.account_id == first.new_id
    assert created.crm_id == "crm-1"
    account = (await store.get_accounts(a.id, [first.new_id]))[first.new_id]
    assert account.org_id == a.id
    assert account.name == "Account crm-1"
    assert account.populations == ("CUSTOMER", "PROSPECT")
    assert account.fields == (("industry", "retail"), ("tier", "gold"))
    assert account.keys == tuple(
        sorted(StoredKey(KeyKind.DOMAIN, fake_hash(k), 1) for k in ("acme.com", "acme.io"))
    )
    assert account.created_at == account.updated_at == at(1)

    again = make_upsert("crm-1", "acme.com", name="Acme Inc", owner=None, populations=())
    [updated] = await store.upsert_accounts(a.id, [again], expected_state=V1, at=at(2))
    assert not updated.created
    assert updated.account_id == first.new_id
    account = (await store.get_accounts(a.id, [first.new_id]))[first.new_id]
    assert (account.name, account.owner, account.populations, account.fields) == (
        "Acme Inc",
        None,
        (),
        (),
    )
    assert [k.h for k in account.keys] == [fake_hash("acme.com")]
    assert account.created_at == at(1)
    assert account.updated_at == at(2)


async def test_upsert_is_idempotent(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    rows = [make_upsert(f"c{i}", f"d{i}.com") for i in range(20)]
    await store.upsert_accounts(a.id, rows, expected_state=V1, at=at(1))
    results = await store.upsert_accounts(a.id, rows, expected_state=V1, at=at(1))
    assert [r.created for r in results] == [False] * 20
    assert [r.crm_id for r in results] == [r.crm_id for r in rows]
    assert await store.count_accounts(a.id) == 20


async def test_duplicate_crm_ids_in_one_call_are_bad_input(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    with pytest.raises(BadInput):
        await store.upsert_accounts(
            a.id,
            [make_upsert("x", "a.com"), make_upsert("x", "b.com")],
            expected_state=V1,
            at=at(1),
        )
    assert await store.count_accounts(a.id) == 0


async def test_same_crm_id_in_two_orgs_are_two_accounts(store: GraphStore) -> None:
    a, b = await two_orgs(store)
    ra = await store.upsert_accounts(
        a.id, [make_upsert("c1", "k.com")], expected_state=V1, at=at(1)
    )
    rb = await store.upsert_accounts(
        b.id, [make_upsert("c1", "k.com")], expected_state=V1, at=at(1)
    )
    assert ra[0].account_id != rb[0].account_id
    assert rb[0].created


async def test_accounts_are_scoped_to_the_acting_org(store: GraphStore) -> None:
    a, b = await two_orgs(store)
    [ra] = await store.upsert_accounts(
        a.id, [make_upsert("c1", "k.com")], expected_state=V1, at=at(1)
    )
    assert await store.get_accounts(b.id, [ra.account_id]) == {}
    assert (await store.list_accounts(b.id, first=10)).items == []
    assert await store.count_accounts(b.id) == 0
    assert await store.delete_accounts(b.id, ["c1"]) == []
    assert await store.count_accounts(a.id) == 1


async def test_list_filters_by_population_and_pages_by_id(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    rows = [
        make_upsert(f"c{i}", f"d{i}.com", populations=("CUSTOMER",) if i % 2 else ("PROSPECT",))
        for i in range(9)
    ]
    await store.upsert_accounts(a.id, rows, expected_state=V1, at=at(1))
    seen, after = [], None
    while True:
        page = await store.list_accounts(a.id, first=4, after=after)
        seen += [acc.id for acc in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == sorted(r.new_id for r in rows)
    customers = await store.list_accounts(a.id, population="CUSTOMER", first=100)
    assert {acc.crm_id for acc in customers.items} == {f"c{i}" for i in range(1, 9, 2)}
    assert await store.count_accounts(a.id, population="CUSTOMER") == 4
    assert await store.count_accounts(a.id, population="NOPE") == 0


async def test_delete_removes_links_and_orphaned_keys_only(store: ResettableStore) -> None:
    a, b = await two_orgs(store)
    await store.upsert_accounts(
        a.id,
        [make_upsert("c1", "shared.com", "only-a.com"), make_upsert("c2", "x.com")],
        expected_state=V1,
        at=at(1),
    )
    await store.upsert_accounts(
        b.id, [make_upsert("c9", "shared.com")], expected_state=V1, at=at(1)
    )
    assert sorted(await store.delete_accounts(a.id, ["c1", "missing"])) == ["c1"]
    dumped = "\n".join(await store.dump())
    assert fake_hash("only-a.com") not in dumped  # orphan key gone
    assert fake_hash("shared.com") in dumped  # still held by b
    assert await store.count_accounts(a.id) == 1


async def test_replacing_keys_drops_orphaned_keys(store: ResettableStore) -> None:
    a, _ = await two_orgs(store)
    await store.upsert_accounts(a.id, [make_upsert("c1", "old.com")], expected_state=V1, at=at(1))
    await store.upsert_accounts(a.id, [make_upsert("c1", "new.com")], expected_state=V1, at=at(2))
    dumped = "\n".join(await store.dump())
    assert fake_hash("old.com") not in dumped
    assert fake_hash("new.com") in dumped


async def test_two_orgs_holding_a_key_share_one_key(store: ResettableStore) -> None:
    a, b = await two_orgs(store)
    await store.upsert_accounts(
        a.id, [make_upsert("c1", "shared.com")], expected_state=V1, at=at(1)
    )
    await store.upsert_accounts(
        b.id, [make_upsert("c1", "shared.com")], expected_state=V1, at=at(1)
    )
    acc_a = (await store.list_accounts(a.id, first=1)).items[0]
    acc_b = (await store.list_accounts(b.id, first=1)).items[0]
    assert acc_a.keys == acc_b.keys


async def test_stale_key_state_is_a_conflict_and_writes_nothing(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    await store.start_rotation(2)
    with pytest.raises(Conflict):
        await store.upsert_accounts(a.id, [make_upsert("c1", "k.com")], expected_state=V1, at=at(1))
    assert await store.count_accounts(a.id) == 0


async def test_concurrent_upserts_of_shared_keys_do_not_clash(store: GraphStore) -> None:
    orgs = [make_org(f"O{i}") for i in range(4)]
    for org in orgs:
        await store.create_org(org)
    batches = [
        store.upsert_accounts(
            org.id,
            [make_upsert(f"c{i}", f"shared{i % 5}.com") for i in range(25)],
            expected_state=V1,
            at=at(1),
        )
        for org in orgs
    ]
    results = await asyncio.gather(*batches)
    assert all(len(r) == 25 for r in results)
    for org in orgs:
        assert await store.count_accounts(org.id) == 25


async def test_hostile_text_round_trips(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    evil = "x'); DROP TABLE accounts;-- }) DETACH DELETE n // \u202e\u4e2d"
    row = make_upsert(
        evil, "k.com", name=evil, owner=evil, populations=(evil,), fields=((evil, evil),)
    )
    [result] = await store.upsert_accounts(a.id, [row], expected_state=V1, at=at(1))
    account = (await store.get_accounts(a.id, [result.account_id]))[result.account_id]
    assert (account.crm_id, account.name, account.owner) == (evil, evil, evil)
    assert account.populations == (evil,)
    assert account.fields == ((evil, evil),)


async def test_key_kinds_are_kept(store: GraphStore) -> None:
    a, _ = await two_orgs(store)
    keys = (
        HashedKey(KeyKind.DUNS, fake_hash("123456789")),
        HashedKey(KeyKind.NAME, fake_hash("acme")),
    )
    row = replace(make_upsert("c1"), keys=keys)
    [result] = await store.upsert_accounts(a.id, [row], expected_state=V1, at=at(1))
    account = (await store.get_accounts(a.id, [result.account_id]))[result.account_id]
    assert {k.kind for k in account.keys} == {KeyKind.DUNS, KeyKind.NAME}
