"""The account map as a viewer sees it, for every sharing level combination, on every
store, against a plain-Python reference of the same world."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.identity import Role, TokenKind, TokenScope
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    KeyState,
    PartnershipStatus,
    SharingLevel,
    SharingRule,
)
from graph.port import GraphStore
from graph.sql.identity import SqlIdentityStore
from resolvers import overlaps
from resolvers.actor import Actor
from tests.factories import at, fake_hash, make_org, make_partnership, new_id

K = 5
POPS = ("CUSTOMER", "PROSPECT")
LEVELS = list(SharingLevel)


@pytest.fixture
async def identity(tmp_path: Path) -> AsyncIterator[SqlIdentityStore]:
    store = SqlIdentityStore(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await store.apply_schema()
    yield store
    await store.close()


def rows(rng: random.Random, prefix: str) -> list[AccountUpsert]:
    chosen = rng.sample(range(60), 40)
    return [
        AccountUpsert(
            crm_id=f"{prefix}{i}",
            new_id=new_id(),
            name=f"{prefix}{i}",
            owner=f"{prefix}-owner",
            populations=(rng.choice(POPS),),
            fields=(("stage", f"{prefix}{i}"), ("secret", "s")),
            keys=(HashedKey(KeyKind.DOMAIN, fake_hash(f"c{i}")),),
        )
        for i in chosen
    ]


@pytest.mark.parametrize(("customer", "prospect"), list(itertools.product(LEVELS, LEVELS)))
async def test_viewer_sees_exactly_what_the_levels_allow(
    store: GraphStore, identity: SqlIdentityStore, customer: SharingLevel, prospect: SharingLevel
) -> None:
    rng = random.Random(f"{customer}{prospect}")
    viewer, partner = make_org("Viewer"), make_org("Partner")
    for org in (viewer, partner):
        await store.create_org(org)
    p = await store.insert_partnership(make_partnership(viewer, partner))
    await store.transition_partnership(
        partner.id,
        p.id,
        expected=[PartnershipStatus.INVITED],
        new_status=PartnershipStatus.ACTIVE,
        at=at(1),
    )
    levels = {"CUSTOMER": customer, "PROSPECT": prospect}
    fields = ("owner", "stage")
    for population, level in levels.items():
        await store.put_sharing_rule(
            SharingRule(
                partner.id,
                viewer.id,
                population,
                level,
                fields if level is SharingLevel.DETAILS else (),
                at(2),
            )
        )
    mine, theirs = rows(rng, "m"), rows(rng, "t")
    await store.upsert_accounts(viewer.id, mine, expected_state=KeyState(), at=at(3))
    await store.upsert_accounts(partner.id, theirs, expected_state=KeyState(), at=at(3))
    actor = Actor(new_id(), viewer.id, Role.ADMIN, new_id(), TokenKind.SESSION, TokenScope.READ)

    # reference
    theirs_by_key = {r.keys[0].active: r for r in theirs}
    sizes: dict[str, int] = defaultdict(int)
    pairs = []
    for r in mine:
        sizes[r.populations[0]] += 1
        other = theirs_by_key.get(r.keys[0].active)
        if other is not None:
            pairs.append((r, other))
    expected_cells = {}
    for my_pop in sorted(sizes):
        for their_pop, level in sorted(levels.items()):
            if level is SharingLevel.HIDDEN:
                continue
            hits = [
                (a, b)
                for a, b in pairs
                if a.populations[0] == my_pop and b.populations[0] == their_pop
            ]
            count = len(hits)
            small = sizes[my_pop] < K or count < K
            shown = None if (level is SharingLevel.COUNTS and small) else count
            expected_cells[(my_pop, their_pop)] = (shown, shown)
    expected_list = {
        a.crm_id: (
            b.populations,
            b.owner if levels[b.populations[0]] is SharingLevel.DETAILS else None,
        )
        for a, b in pairs
        if levels[b.populations[0]].rank >= SharingLevel.OVERLAPS.rank
    }

    view = await overlaps.matrix(store, identity, actor, partner_id=partner.id, now=at(4), k=K)
    assert {
        (c.my_population, c.partner_population): (c.my_count, c.partner_count) for c in view.cells
    } == expected_cells

    page = await overlaps.overlaps(
        store,
        identity,
        actor,
        partner_id=partner.id,
        my_population=None,
        partner_population=None,
        first=100,
        after=None,
        now=at(4),
    )
    seen = {
        v.match.account.crm_id: (v.partner_populations, v.details[0].owner if v.details else None)
        for v in page.items
    }
    assert seen == expected_list
    for v in page.items:
        for detail in v.details:
            assert dict(detail.fields).keys() <= {"stage"}  # "secret" is never shared
