"""Contract: overlap counts and lists match a plain-Python reference on random worlds."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import pytest

from graph.errors import BadInput
from graph.model import (
    NO_FILTER,
    Account,
    AccountFilter,
    AccountUpsert,
    HashedKey,
    KeyKind,
    KeyState,
    OverlapCell,
    OverlapOrder,
    OverlapSort,
    SortDirection,
)
from graph.port import GraphStore
from tests.factories import at, fake_hash, make_org, new_id

POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT", "Strategic 'EMEA'")
ALL_KINDS = (KeyKind.DOMAIN, KeyKind.DUNS, KeyKind.NAME)
STRONG = (KeyKind.DOMAIN, KeyKind.DUNS)


@dataclass(frozen=True)
class Row:
    crm_id: str
    populations: tuple[str, ...]
    keys: tuple[tuple[KeyKind, str], ...]
    owner: str


def world_rows(rng: random.Random, org: str, companies: int, size: int) -> list[Row]:
    rows = []
    for index in rng.sample(range(companies), size):
        keys = [(KeyKind.DOMAIN, f"d{index}")]
        if index % 3 == 0:
            keys.append((KeyKind.DUNS, f"u{index}"))
        if index % 4 == 0:
            keys = [(KeyKind.NAME, f"n{index}")]  # only a weak key
        populations = tuple(sorted(set(rng.sample(POPULATIONS, rng.randint(0, 2)))))
        rows.append(Row(f"{org}-{index}", populations, tuple(keys), f"owner{index}@{org}"))
    return rows


def upserts(rows: list[Row]) -> list[AccountUpsert]:
    return [
        AccountUpsert(
            crm_id=r.crm_id,
            new_id=new_id(),
            name=r.crm_id,
            owner=r.owner,
            populations=r.populations,
            fields=(("stage", f"s-{r.crm_id}"),),
            keys=tuple(HashedKey(kind, fake_hash(label)) for kind, label in r.keys),
        )
        for r in rows
    ]


def shares(x: Row, y: Row, kinds: tuple[KeyKind, ...]) -> bool:
    return bool({k for k in x.keys if k[0] in kinds} & {k for k in y.keys if k[0] in kinds})


def reference_matrix(
    mine: list[Row], theirs: list[Row], kinds: tuple[KeyKind, ...]
) -> list[OverlapCell]:
    cells: dict[tuple[str, str], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for x in mine:
        for y in theirs:
            if shares(x, y, kinds):
                for px in x.populations:
                    for py in y.populations:
                        cells[(px, py)][0].add(x.crm_id)
                        cells[(px, py)][1].add(y.crm_id)
    return [OverlapCell(px, py, len(a), len(b)) for (px, py), (a, b) in sorted(cells.items())]


async def load_world(store: GraphStore, seed: int) -> tuple[str, str, list[Row], list[Row]]:
    rng = random.Random(seed)
    a, b, c = make_org("A"), make_org("B"), make_org("C")
    for org in (a, b, c):
        await store.create_org(org)
    rows_a = world_rows(rng, "a", 80, 50)
    rows_b = world_rows(rng, "b", 80, 45)
    rows_c = world_rows(rng, "c", 80, 60)  # a third org, to prove it never leaks in
    for org, rows in ((a, rows_a), (b, rows_b), (c, rows_c)):
        await store.upsert_accounts(org.id, upserts(rows), expected_state=KeyState(), at=at(1))
    return a.id, b.id, rows_a, rows_b


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_matrix_matches_the_reference(store: GraphStore, seed: int) -> None:
    a, b, rows_a, rows_b = await load_world(store, seed)
    for kinds in (STRONG, ALL_KINDS):
        assert await store.overlap_matrix(a, b, kinds=kinds) == reference_matrix(
            rows_a, rows_b, kinds
        )
        assert await store.overlap_matrix(b, a, kinds=kinds) == reference_matrix(
            rows_b, rows_a, kinds
        )


async def test_population_counts(store: GraphStore) -> None:
    a, _, rows_a, _ = await load_world(store, 4)
    expected: dict[str, int] = defaultdict(int)
    for row in rows_a:
        for population in row.populations:
            expected[population] += 1
    assert await store.population_counts(a) == dict(expected)
    assert await store.population_counts("missing") == {}


@pytest.mark.parametrize(
    ("my_population", "partner_populations"),
    [
        (None, POPULATIONS),
        ("CUSTOMER", ("CUSTOMER",)),
        ("PROSPECT", ("OPEN_OPPORTUNITY", "Strategic 'EMEA'")),
        (None, ()),
    ],
)
async def test_overlap_list_matches_the_reference_and_reads_only_requested_populations(
    store: GraphStore, my_population: str | None, partner_populations: tuple[str, ...]
) -> None:
    a, b, rows_a, rows_b = await load_world(store, 5)
    wanted = set(partner_populations)
    expected: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for x in rows_a:
        if my_population is not None and my_population not in x.populations:
            continue
        matches = [
            (tuple(p for p in y.populations if p in wanted), y.owner)
            for y in rows_b
            if shares(x, y, STRONG) and wanted & set(y.populations)
        ]
        if matches:
            expected[x.crm_id] = sorted(matches)

    seen: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    ids: list[str] = []
    after = None
    while True:
        page = await store.overlapping_accounts(
            a,
            b,
            my_population=my_population,
            partner_populations=partner_populations,
            kinds=STRONG,
            first=7,
            after=after,
        )
        for match in page.items:
            assert match.account.org_id == a
            ids.append(match.account.id)
            seen[match.account.crm_id] = sorted(
                (p.populations, p.owner or "") for p in match.partner
            )
            for partner in match.partner:
                assert set(partner.populations) <= wanted
                assert partner.fields
                assert partner.fields[0][0] == "stage"
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == expected
    assert ids == sorted(ids)


NAMES = ("Acme", "acme", "Acme Corp", "Beta", "beta co", "Zeta", "_under", "Émile", "b%x")
OWNERS = ("ann", "Bob", "bob", None)
ORDERS = [OverlapOrder(f, d) for f in OverlapSort for d in SortDirection]


def named(rows: list[Row], rng: random.Random) -> list[AccountUpsert]:
    """Upserts of `rows` with names and owners drawn from small pools (ties on purpose)."""
    return [
        AccountUpsert(
            crm_id=r.crm_id,
            new_id=new_id(),
            name=rng.choice(NAMES),
            owner=rng.choice(OWNERS),
            populations=r.populations,
            fields=(),
            keys=tuple(HashedKey(kind, fake_hash(label)) for kind, label in r.keys),
        )
        for r in rows
    ]


def reference_key(order: OverlapOrder, account: Account) -> tuple[object, ...]:
    """The documented order, written out independently: (value, id), a missing owner
    lowest, code point order for text."""
    match order.field:
        case OverlapSort.ID:
            return (account.id,)
        case OverlapSort.NAME:
            return (account.name, account.id)
        case OverlapSort.OWNER:
            owner = (0, "") if account.owner is None else (1, account.owner)
            return (owner, account.id)
        case OverlapSort.CREATED_AT:
            return (account.created_at, account.id)
        case OverlapSort.UPDATED_AT:
            return (account.updated_at, account.id)


async def load_sortable_world(store: GraphStore, seed: int) -> tuple[str, str, list[Account]]:
    """A and B as in load_world, but A's accounts created in three batches, a third of
    them updated twice later with other names and owners: every field has ties and
    spread. Returns A's overlapping accounts (with any partner population)."""
    rng = random.Random(seed)
    a, b = make_org("A"), make_org("B")
    for org in (a, b):
        await store.create_org(org)
    rows_a = world_rows(rng, "a", 80, 60)
    rows_b = world_rows(rng, "b", 80, 50)
    state = KeyState()
    await store.upsert_accounts(b.id, upserts(rows_b), expected_state=state, at=at(1))
    for batch in range(3):
        part = rows_a[batch::3]
        await store.upsert_accounts(a.id, named(part, rng), expected_state=state, at=at(batch))
    for minute in (10, 11):
        part = rng.sample(rows_a, 20)
        await store.upsert_accounts(a.id, named(part, rng), expected_state=state, at=at(minute))
    overlapping = {
        x.crm_id for x in rows_a if any(shares(x, y, STRONG) and y.populations for y in rows_b)
    }
    mine = await store.list_accounts(a.id, first=1000)
    return a.id, b.id, [acc for acc in mine.items if acc.crm_id in overlapping]


async def page_through(
    store: GraphStore,
    a: str,
    b: str,
    order: OverlapOrder,
    where: AccountFilter = NO_FILTER,
    my_population: str | None = None,
) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = await store.overlapping_accounts(
            a,
            b,
            partner_populations=POPULATIONS,
            my_population=my_population,
            kinds=STRONG,
            first=4,
            after=after,
            order=order,
            where=where,
        )
        assert len(page.cursors) == len(page.items)
        ids.extend(m.account.id for m in page.items)
        if not page.has_next:
            return ids
        after = page.cursors[-1]


async def test_overlap_list_in_every_order_pages_through_like_the_reference(
    store: GraphStore,
) -> None:
    a, b, overlapping = await load_sortable_world(store, 11)
    assert len({acc.name for acc in overlapping}) < len(overlapping)  # ties exist
    assert any(acc.owner is None for acc in overlapping)
    for order in ORDERS:
        expected = sorted(
            overlapping,
            key=lambda acc: reference_key(order, acc),
            reverse=order.direction is SortDirection.DESC,
        )
        assert await page_through(store, a, b, order) == [acc.id for acc in expected], order
        in_population = [acc.id for acc in expected if "CUSTOMER" in acc.populations]
        assert await page_through(store, a, b, order, my_population="CUSTOMER") == in_population


async def page_back(
    store: GraphStore,
    a: str,
    b: str,
    order: OverlapOrder,
    my_population: str | None = None,
    before: str | None = None,
) -> tuple[list[list[str]], list[str]]:
    """The backward walk from `before` (from the end when None): its pages, last first,
    each in the order's own direction, and the cursors in list order."""
    pages: list[list[str]] = []
    cursors: list[str] = []
    while True:
        page = await store.overlapping_accounts(
            a,
            b,
            partner_populations=POPULATIONS,
            my_population=my_population,
            kinds=STRONG,
            first=4,
            after=before,
            backward=True,
            order=order,
        )
        assert not page.has_next
        assert len(page.cursors) == len(page.items)
        pages.append([m.account.id for m in page.items])
        cursors = page.cursors + cursors
        if not page.has_previous:
            return pages, cursors
        before = page.cursors[0]


async def test_overlap_list_in_every_order_pages_backward_like_forward(
    store: GraphStore,
) -> None:
    a, b, overlapping = await load_sortable_world(store, 11)
    for order in ORDERS:
        expected = sorted(
            overlapping,
            key=lambda acc: reference_key(order, acc),
            reverse=order.direction is SortDirection.DESC,
        )
        for population in (None, "CUSTOMER"):
            ids = [acc.id for acc in expected if population in (None, *acc.populations)]
            pages, cursors = await page_back(store, a, b, order, my_population=population)
            assert [i for page in reversed(pages) for i in page] == ids, (order, population)
            assert pages[0] == ids[-4:]
            assert all(len(page) == 4 for page in pages[:-1])
            # A cursor from the backward walk works as `after`, and any as `before`.
            middle = len(ids) // 2
            forward = await store.overlapping_accounts(
                a,
                b,
                partner_populations=POPULATIONS,
                my_population=population,
                kinds=STRONG,
                first=4,
                after=cursors[middle],
                order=order,
            )
            assert [m.account.id for m in forward.items] == ids[middle + 1 : middle + 5]
            back, _ = await page_back(store, a, b, order, population, before=cursors[middle])
            assert [i for page in reversed(back) for i in page] == ids[:middle]
            nothing, _ = await page_back(store, a, b, order, population, before=cursors[0])
            assert nothing == [[]]


@pytest.mark.parametrize(
    "where",
    [
        AccountFilter(name_starts_with="acme"),
        AccountFilter(name_contains="ET"),
        AccountFilter(name_contains="%"),
        AccountFilter(name_starts_with="_"),
        AccountFilter(owner="bob"),
        AccountFilter(name_contains="a", owner="ann"),
        AccountFilter(name_contains="no such name"),
    ],
)
async def test_overlap_list_filters_on_my_fields(store: GraphStore, where: AccountFilter) -> None:
    a, b, overlapping = await load_sortable_world(store, 12)

    def passes(acc: Account) -> bool:
        name = acc.name.lower()
        return (
            (where.name_starts_with is None or name.startswith(where.name_starts_with.lower()))
            and (where.name_contains is None or where.name_contains.lower() in name)
            and (where.owner is None or acc.owner == where.owner)
        )

    for order in (OverlapOrder(), OverlapOrder(OverlapSort.NAME, SortDirection.DESC)):
        expected = sorted(
            (acc for acc in overlapping if passes(acc)),
            key=lambda acc: reference_key(order, acc),
            reverse=order.direction is SortDirection.DESC,
        )
        assert await page_through(store, a, b, order, where) == [acc.id for acc in expected]


async def test_a_cursor_works_only_with_its_own_order(store: GraphStore) -> None:
    a, b, _ = await load_sortable_world(store, 13)
    by_name = OverlapOrder(OverlapSort.NAME)
    page = await store.overlapping_accounts(
        a, b, partner_populations=POPULATIONS, kinds=STRONG, first=2, order=by_name
    )
    cursor = page.cursors[-1]
    others = [o for o in ORDERS if o != by_name]
    for order in others:
        with pytest.raises(BadInput):
            await store.overlapping_accounts(
                a,
                b,
                partner_populations=POPULATIONS,
                kinds=STRONG,
                first=2,
                after=cursor,
                order=order,
            )
    for garbage in ("", "x", "[1]", '"NAME"', page.items[0].account.id):
        with pytest.raises(BadInput):
            await store.overlapping_accounts(
                a, b, partner_populations=POPULATIONS, kinds=STRONG, first=2, after=garbage
            )
    for order in others:  # backward too, with the argument named
        with pytest.raises(BadInput) as raised:
            await store.overlapping_accounts(
                a,
                b,
                partner_populations=POPULATIONS,
                kinds=STRONG,
                first=2,
                after=cursor,
                backward=True,
                order=order,
            )
        assert raised.value.field == "before"
    for garbage in ("", "x", "[1]", '"NAME"', page.items[0].account.id):
        with pytest.raises(BadInput):
            await store.overlapping_accounts(
                a,
                b,
                partner_populations=POPULATIONS,
                kinds=STRONG,
                first=2,
                after=garbage,
                backward=True,
            )


async def test_names_count_only_when_asked(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    only_name = [Row("x", ("CUSTOMER",), ((KeyKind.NAME, "acme"),), "o")]
    await store.upsert_accounts(a.id, upserts(only_name), expected_state=KeyState(), at=at(1))
    await store.upsert_accounts(b.id, upserts(only_name), expected_state=KeyState(), at=at(1))
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == []
    assert await store.overlap_matrix(a.id, b.id, kinds=ALL_KINDS) == [
        OverlapCell("CUSTOMER", "CUSTOMER", 1, 1)
    ]


async def test_counts_are_fresh_after_every_write(store: GraphStore) -> None:
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    state = KeyState()
    mine = [Row(f"m{i}", ("CUSTOMER",), ((KeyKind.DOMAIN, f"d{i}"),), "o") for i in range(6)]
    await store.upsert_accounts(a.id, upserts(mine), expected_state=state, at=at(1))
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == []
    theirs = [Row(f"t{i}", ("PROSPECT",), ((KeyKind.DOMAIN, f"d{i}"),), "o") for i in range(4)]
    await store.upsert_accounts(b.id, upserts(theirs), expected_state=state, at=at(2))
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == [
        OverlapCell("CUSTOMER", "PROSPECT", 4, 4)
    ]
    await store.delete_accounts(b.id, ["t0"])
    moved = [Row("t1", ("CUSTOMER",), ((KeyKind.DOMAIN, "d1"),), "o")]
    await store.upsert_accounts(b.id, upserts(moved), expected_state=state, at=at(3))
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == [
        OverlapCell("CUSTOMER", "CUSTOMER", 1, 1),
        OverlapCell("CUSTOMER", "PROSPECT", 2, 2),
    ]


async def test_population_fingerprints_change_with_membership(store: GraphStore) -> None:
    a = make_org()
    await store.create_org(a)
    state = KeyState()
    base = [Row(f"m{i}", ("CUSTOMER",), ((KeyKind.DOMAIN, f"d{i}"),), "o") for i in range(6)]
    await store.upsert_accounts(a.id, upserts(base), expected_state=state, at=at(1))
    first = await store.population_fingerprints(a.id)
    assert set(first) == {"CUSTOMER"}
    assert await store.population_fingerprints(a.id) == first  # stable when nothing changes

    other = [Row("p0", ("PROSPECT",), ((KeyKind.DOMAIN, "p0"),), "o")]
    await store.upsert_accounts(a.id, upserts(other), expected_state=state, at=at(2))
    assert (await store.population_fingerprints(a.id))["CUSTOMER"] == first["CUSTOMER"]

    swapped = [Row("m6", ("CUSTOMER",), ((KeyKind.DOMAIN, "d6"),), "o")]
    await store.delete_accounts(a.id, ["m0"])
    await store.upsert_accounts(a.id, upserts(swapped), expected_state=state, at=at(3))
    second = await store.population_fingerprints(a.id)
    assert second["CUSTOMER"] != first["CUSTOMER"]  # same size, other members

    moved_out = [Row("m1", ("PROSPECT",), ((KeyKind.DOMAIN, "d1"),), "o")]
    await store.upsert_accounts(a.id, upserts(moved_out), expected_state=state, at=at(4))
    third = await store.population_fingerprints(a.id)
    assert third["CUSTOMER"] != second["CUSTOMER"]
    assert third["PROSPECT"] != second["PROSPECT"]


async def test_repeated_matrix_reads_stay_fresh_even_at_one_instant(store: GraphStore) -> None:
    """Writes at the very same timestamp (a frozen clock) that change only keys, or swap
    one member for another, still show at once: a cached matrix is keyed on versions
    that every account write bumps, not on timestamps."""
    a, b = make_org(), make_org()
    await store.create_org(a)
    await store.create_org(b)
    state = KeyState()
    mine = [Row(f"m{i}", ("CUSTOMER",), ((KeyKind.DOMAIN, f"d{i}"),), "o") for i in range(6)]
    theirs = [Row(f"t{i}", ("PROSPECT",), ((KeyKind.DOMAIN, f"d{i}"),), "o") for i in range(3)]
    await store.upsert_accounts(a.id, upserts(mine), expected_state=state, at=at(1))
    await store.upsert_accounts(b.id, upserts(theirs), expected_state=state, at=at(1))
    expected = [OverlapCell("CUSTOMER", "PROSPECT", 3, 3)]
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == expected
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == expected  # served again
    rekeyed = [Row("t0", ("PROSPECT",), ((KeyKind.DOMAIN, "elsewhere"),), "o")]
    await store.upsert_accounts(b.id, upserts(rekeyed), expected_state=state, at=at(1))
    expected = [OverlapCell("CUSTOMER", "PROSPECT", 2, 2)]
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == expected
    await store.delete_accounts(a.id, ["m1"])
    await store.upsert_accounts(
        a.id,
        upserts([Row("m9", ("CUSTOMER",), ((KeyKind.DOMAIN, "elsewhere"),), "o")]),
        expected_state=state,
        at=at(1),
    )
    assert await store.overlap_matrix(a.id, b.id, kinds=STRONG) == [
        OverlapCell("CUSTOMER", "PROSPECT", 2, 2)
    ]
    assert await store.overlap_matrix(b.id, a.id, kinds=STRONG) == [
        OverlapCell("PROSPECT", "CUSTOMER", 2, 2)
    ]
    assert await store.overlap_matrix(a.id, b.id, kinds=ALL_KINDS) == [
        OverlapCell("CUSTOMER", "PROSPECT", 2, 2)
    ]
