"""Key rotation end to end: accounts keep matching across orgs before, during, after."""

from __future__ import annotations

from graph.factory import open_store
from graph.model import KeyKind
from privacy.keyring import Keyring
from resolvers.accounts import AccountInput, write_rows
from resolvers.keys import rotate
from tests.factories import at, make_org

V1 = Keyring.from_secrets({1: b"1" * 32})
V2 = Keyring.from_secrets({1: b"1" * 32, 2: b"2" * 32})


def rows(prefix: str, count: int) -> list[AccountInput]:
    return [
        AccountInput(crm_id=f"{prefix}{i}", name="n", domains=(f"co{i}.com",)) for i in range(count)
    ]


async def keys_of(store: object, org_id: str) -> set[str]:
    page = await store.list_accounts(org_id, first=100)  # type: ignore[attr-defined]
    return {k.h for account in page.items for k in account.keys}


async def test_rotation_keeps_overlaps_and_new_writes_match(sqlite_url: str) -> None:
    store = open_store(sqlite_url, allow_reset=True)
    await store.apply_schema()
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    await write_rows(store, a.id, V1, rows("a", 30), now=at(1))

    assert await rotate(store, V1) is None  # nothing newer to rotate to
    batches: list[int] = []
    report = await rotate(store, V2, batch_size=7, on_batch=batches.append)
    assert report is not None
    assert (report.from_version, report.to_version, report.rewrapped) == (1, 2, 30)
    assert len(batches) == 5
    assert await keys_of(store, a.id) == {
        V2.hash(KeyKind.DOMAIN, f"co{i}.com", 2) for i in range(30)
    }

    # b ingests the same companies after the rotation: they match a's re-wrapped keys
    await write_rows(store, b.id, V2, rows("b", 30), now=at(2))
    assert await keys_of(store, a.id) == await keys_of(store, b.id)
    assert (await store.key_state()).active_version == 2
    await store.close()


async def test_writes_during_an_interrupted_rotation_still_match(sqlite_url: str) -> None:
    store = open_store(sqlite_url, allow_reset=True)
    await store.apply_schema()
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    await write_rows(store, a.id, V1, rows("a", 20), now=at(1))
    await store.start_rotation(2)
    batch = await store.keys_to_rotate(first=10)
    await store.rewrap_keys([(h, V2.rewrap(h, 2)) for h in batch], cursor=batch[-1])
    # the rotation stops here (a crash); b imports meanwhile
    await write_rows(store, b.id, V2, rows("b", 20), now=at(2))
    assert await keys_of(store, a.id) == await keys_of(store, b.id)
    report = await rotate(store, V2)  # resumes from the cursor
    assert report is not None
    assert report.rewrapped == 10
    assert await keys_of(store, a.id) == await keys_of(store, b.id)
    await store.close()
