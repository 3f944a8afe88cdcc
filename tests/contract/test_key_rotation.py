"""Contract: key-version rotation rewraps shared keys for every holder at once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graph.errors import Conflict
from graph.model import HashedKey, KeyKind, KeyState
from graph.port import GraphStore
from tests.factories import at, fake_hash, make_org, make_upsert

V1 = KeyState()


def wrap(h: str) -> str:
    """A stand-in for HMAC(k2, h1)."""
    return fake_hash(h, version=2)


async def test_rotation_rewraps_every_holder_and_finishes(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    await store.upsert_accounts(
        a.id, [make_upsert(f"c{i}", f"k{i}.com") for i in range(10)], expected_state=V1, at=at(1)
    )
    await store.upsert_accounts(
        b.id, [make_upsert(f"c{i}", f"k{i}.com") for i in range(5)], expected_state=V1, at=at(1)
    )
    state = await store.start_rotation(2)
    assert state == KeyState(active_version=1, target_version=2, cursor=None)
    assert await store.start_rotation(2) == state  # idempotent
    with pytest.raises(Conflict):
        await store.start_rotation(3)
    with pytest.raises(Conflict):
        await store.finish_rotation()  # keys are left at version 1

    rotated = 0
    while batch := await store.keys_to_rotate(first=4):
        assert batch == sorted(batch)
        assert len(batch) <= 4
        rotated += await store.rewrap_keys([(h, wrap(h)) for h in batch], cursor=batch[-1])
        state = await store.key_state()
        assert state.cursor == batch[-1]
        # mid-rotation, both orgs see the same stored keys for a shared key
        acc_a = {x.crm_id: x.keys for x in (await store.list_accounts(a.id, first=100)).items}
        acc_b = {x.crm_id: x.keys for x in (await store.list_accounts(b.id, first=100)).items}
        assert all(acc_a[c] == acc_b[c] for c in acc_b)
    assert rotated == 10
    assert await store.finish_rotation() == KeyState(active_version=2)
    accounts = (await store.list_accounts(a.id, first=100)).items
    expected = {wrap(fake_hash(f"k{i}.com")) for i in range(10)}
    assert {k.h for acc in accounts for k in acc.keys} == expected
    assert {k.version for acc in accounts for k in acc.keys} == {2}


async def test_upsert_during_rotation_lands_on_the_right_side_of_the_cursor(
    store: GraphStore,
) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    labels = [f"k{i}.com" for i in range(6)]
    await store.upsert_accounts(
        a.id, [make_upsert(f"c{i}", k) for i, k in enumerate(labels)], expected_state=V1, at=at(1)
    )
    await store.start_rotation(2)
    batch = await store.keys_to_rotate(first=3)
    await store.rewrap_keys([(h, wrap(h)) for h in batch], cursor=batch[-1])
    state = await store.key_state()

    # b ingests every key mid-rotation, with both hashes; the store picks by the cursor
    rows = [
        replace(
            make_upsert(f"b{i}"),
            keys=(HashedKey(KeyKind.DOMAIN, fake_hash(k), wrap(fake_hash(k))),),
        )
        for i, k in enumerate(labels)
    ]
    await store.upsert_accounts(b.id, rows, expected_state=state, at=at(2))
    keys_a = {k for acc in (await store.list_accounts(a.id, first=100)).items for k in acc.keys}
    keys_b = {k for acc in (await store.list_accounts(b.id, first=100)).items for k in acc.keys}
    assert keys_a == keys_b  # b matches a on every key, rewrapped or not
    assert sum(1 for k in keys_b if k.version == 2) == 3

    while batch := await store.keys_to_rotate(first=10):
        await store.rewrap_keys([(h, wrap(h)) for h in batch], cursor=batch[-1])
    await store.finish_rotation()
    keys_a = {k for acc in (await store.list_accounts(a.id, first=100)).items for k in acc.keys}
    keys_b = {k for acc in (await store.list_accounts(b.id, first=100)).items for k in acc.keys}
    assert keys_a == keys_b
    assert {k.version for k in keys_a} == {2}


async def test_rotation_target_must_be_newer(store: GraphStore) -> None:
    with pytest.raises(Conflict):
        await store.start_rotation(1)
    assert await store.key_state() == V1
