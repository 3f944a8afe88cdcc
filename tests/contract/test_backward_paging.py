"""Contract: every list behind a connection pages backward (`backward=True`) exactly as
it pages forward, on every backend: walking back from the end page by page meets every
item of the forward walk, in the same order, and a forward cursor works as `before`.
The overlap list, with its sort orders, is covered in test_overlaps.py."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from graph.identity import TokenKind
from graph.intro_port import AskSide, IntroRole
from graph.model import KeyState, Org, Page
from graph.port import GraphStore
from graph.sql.identity import SqlIdentityStore
from graph.touch_port import TouchSide
from tests.contract.test_identity import make_entry, make_token, make_user, ulid_at
from tests.contract.test_webhooks import endpoint as webhook_endpoint
from tests.contract.test_webhooks import register
from tests.contract.test_webhooks import world as webhook_world
from tests.factories import (
    at,
    link,
    make_ask,
    make_introduction,
    make_opportunity,
    make_org,
    make_registration,
    make_touch,
    make_upsert,
    new_id,
)

# (first, after, backward) -> a page of the list.
Fetch = Callable[[int, str | None, bool], Awaitable[Page[Any]]]
SIZE = 3


def _ids(page: Page[Any]) -> list[str]:
    return [item.id for item in page.items]


async def walk_forward(fetch: Fetch, size: int = SIZE) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = await fetch(size, after, False)
        assert not page.has_previous  # a forward page never claims a previous one
        ids += _ids(page)
        cursors += page.cursors
        if not page.has_next:
            return ids, cursors
        after = page.cursors[-1]


async def walk_backward(fetch: Fetch, size: int = SIZE) -> list[list[str]]:
    """The pages from the end back to the start, each in the list's own order."""
    pages: list[list[str]] = []
    before = None
    while True:
        page = await fetch(size, before, True)
        assert not page.has_next  # a backward page never claims a next one
        assert len(page.cursors) == len(page.items)
        pages.append(_ids(page))
        if not page.has_previous:
            return pages
        before = page.cursors[0]


async def check_both_ways(fetch: Fetch, expected: list[str]) -> None:
    """Forward gives `expected`; backward from the end gives the same items, page by page
    from the last; every forward cursor works as `before` and a backward cursor as
    `after`; before the first item is an empty page."""
    assert len(expected) > 2 * SIZE  # at least three pages, the first one short
    forward, cursors = await walk_forward(fetch)
    assert forward == expected
    pages = await walk_backward(fetch)
    assert [item for page in reversed(pages) for item in page] == expected
    assert pages[0] == expected[-SIZE:]
    assert all(len(page) == SIZE for page in pages[:-1])
    for index, cursor in enumerate(cursors):
        before = await fetch(SIZE, cursor, True)
        assert _ids(before) == expected[max(0, index - SIZE) : index], index
        assert before.has_previous == (index > SIZE)
        assert before.cursors == cursors[max(0, index - SIZE) : index]
    empty = await fetch(SIZE, cursors[0], True)
    assert (empty.items, empty.has_previous, empty.has_next) == ([], False, False)
    last = await fetch(SIZE, None, True)
    resumed = await fetch(SIZE, last.cursors[0], False)  # a backward cursor as `after`
    assert _ids(resumed) == expected[-SIZE + 1 :][:SIZE]
    none = await fetch(0, None, True)
    assert none.items == []
    assert none.has_previous


async def orgs(store: GraphStore, n: int) -> list[Org]:
    made = [make_org(f"Org {i}") for i in range(n)]
    for org in made:
        await store.create_org(org)
    return made


async def test_partnerships_page_backward(store: GraphStore) -> None:
    me, *others = await orgs(store, 8)
    made = [await link(store, me, other) for other in others[:4]]
    made += [await link(store, other, me) for other in others[4:]]  # invited by them
    expected = sorted((p.id for p in made), reverse=True)  # newest first

    async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_partnerships(me.id, first=first, after=after, backward=backward)

    await check_both_ways(fetch, expected)


async def test_accounts_page_backward_with_and_without_a_population(store: GraphStore) -> None:
    [me, other] = await orgs(store, 2)
    rows = [
        make_upsert(f"c{i}", f"c{i}.com", populations=("CUSTOMER",) if i % 3 else ("PROSPECT",))
        for i in range(12)
    ]
    results = await store.upsert_accounts(me.id, rows, expected_state=KeyState(), at=at(1))
    await store.upsert_accounts(
        other.id, [make_upsert("c1", "c1.com")], expected_state=KeyState(), at=at(1)
    )
    every = sorted(r.account_id for r in results)
    customers = sorted(
        r.account_id for r, row in zip(results, rows, strict=True) if "CUSTOMER" in row.populations
    )

    async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_accounts(me.id, first=first, after=after, backward=backward)

    async def fetch_customers(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_accounts(
            me.id, population="CUSTOMER", first=first, after=after, backward=backward
        )

    await check_both_ways(fetch, every)
    await check_both_ways(fetch_customers, customers)


async def test_opportunities_page_backward(store: GraphStore) -> None:
    [me] = await orgs(store, 1)
    await store.upsert_accounts(
        me.id, [make_upsert("acc", "acme.com")], expected_state=KeyState(), at=at(0)
    )
    writes = await store.upsert_opportunities(
        me.id, [make_opportunity(f"o{i}", "acc") for i in range(8)], at=at(1)
    )
    expected = sorted(w.opportunity_id for w in writes if w.opportunity_id is not None)
    assert len(expected) == len(writes)

    async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_opportunities(me.id, first=first, after=after, backward=backward)

    await check_both_ways(fetch, expected)


async def test_deal_registrations_page_backward_on_both_sides(store: GraphStore) -> None:
    vendor, partner, other = await orgs(store, 3)
    [result] = await store.upsert_accounts(
        vendor.id, [make_upsert("acc", "acme.com")], expected_state=KeyState(), at=at(0)
    )
    made = [
        await store.register_deal(
            make_registration(
                vendor.id,
                partner.id if i % 4 else other.id,
                result.account_id,
                product_line=f"line {i}",
            )
        )
        for i in range(10)
    ]
    newest_first = sorted((r.id for r in made), reverse=True)
    with_partner = sorted((r.id for r in made if r.partner_org == partner.id), reverse=True)

    async def vendor_side(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_deals(
            vendor.id, side="vendor", first=first, after=after, backward=backward
        )

    async def partner_side(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_deals(
            partner.id, side="partner", first=first, after=after, backward=backward
        )

    await check_both_ways(vendor_side, newest_first)
    await check_both_ways(partner_side, with_partner)


async def test_introductions_page_backward_in_every_role(store: GraphStore) -> None:
    me, broker, *others = await orgs(store, 18)
    mine, theirs = others[:8], others[8:]  # one open introduction per pair at a time
    requested = [await store.insert_introduction(make_introduction(me, o)) for o in mine]
    received = [await store.insert_introduction(make_introduction(o, me)) for o in theirs]
    brokered = [
        await store.insert_introduction(make_introduction(a, b, broker=broker))
        for a, b in itertools.pairwise(theirs)
    ]

    def listing(org: Org, role: IntroRole) -> Fetch:
        async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
            return await store.list_introductions(
                org.id, role=role, first=first, after=after, backward=backward
            )

        return fetch

    newest_first = [
        sorted((i.id for i in made), reverse=True) for made in (requested, received, brokered)
    ]
    await check_both_ways(listing(me, "requester"), newest_first[0])
    await check_both_ways(listing(me, "target"), newest_first[1])
    await check_both_ways(listing(broker, "broker"), newest_first[2])


async def test_account_asks_page_backward_on_both_sides(store: GraphStore) -> None:
    me, partner = await orgs(store, 2)
    [mine] = await store.upsert_accounts(
        me.id, [make_upsert("acc", "acme.com")], expected_state=KeyState(), at=at(0)
    )
    [theirs] = await store.upsert_accounts(
        partner.id, [make_upsert("acc", "acme.com")], expected_state=KeyState(), at=at(0)
    )
    asked = [await store.insert_ask(make_ask(me, partner, mine.account_id)) for _ in range(7)]
    received = [await store.insert_ask(make_ask(partner, me, theirs.account_id)) for _ in range(8)]

    def listing(side: AskSide) -> Fetch:
        async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
            return await store.list_asks(
                me.id, side=side, first=first, after=after, backward=backward
            )

        return fetch

    await check_both_ways(listing("requester"), sorted((a.id for a in asked), reverse=True))
    await check_both_ways(listing("partner"), sorted((a.id for a in received), reverse=True))


async def test_touches_page_backward_on_both_sides(store: GraphStore) -> None:
    vendor, partner = await orgs(store, 2)
    [result] = await store.upsert_accounts(
        vendor.id, [make_upsert("acc", "acme.com")], expected_state=KeyState(), at=at(0)
    )
    writes = await store.record_touches(
        [make_touch(vendor.id, partner.id, result.account_id) for _ in range(8)]
    )
    expected = sorted((w.touch_id for w in writes), reverse=True)

    def listing(org: Org, side: TouchSide) -> Fetch:
        async def fetch(first: int, after: str | None, backward: bool) -> Page[Any]:
            return await store.list_touches(
                org.id, side=side, first=first, after=after, backward=backward
            )

        return fetch

    await check_both_ways(listing(vendor, "vendor"), expected)
    await check_both_ways(listing(partner, "partner"), expected)


async def test_api_tokens_and_the_audit_log_page_backward(identity: SqlIdentityStore) -> None:
    user = await identity.create_user(make_user())
    org = new_id()
    tokens = [
        await identity.create_token(make_token(user, org, token_id=ulid_at(m))) for m in range(8)
    ]
    await identity.create_token(make_token(user, new_id(), token_id=ulid_at(20)))  # noise
    entries = [make_entry(org, minute) for minute in range(9)]
    for entry in entries:
        await identity.append_audit(entry)
    await identity.append_audit(make_entry(new_id(), 30))  # noise

    async def list_tokens(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await identity.list_tokens(
            org, user.id, kind=TokenKind.API, first=first, after=after, backward=backward
        )

    async def audit_log(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await identity.audit_log(org, first=first, after=after, backward=backward)

    await check_both_ways(list_tokens, sorted((t.id for t in tokens), reverse=True))
    await check_both_ways(audit_log, sorted((e.id for e in entries), reverse=True))


async def test_webhook_endpoints_and_deliveries_page_backward(store: GraphStore) -> None:
    w = await webhook_world(store)
    made = [webhook_endpoint(w.vendor) for _ in range(8)]
    for hook in made:
        await store.create_webhook_endpoint(hook)

    async def endpoints(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_webhook_endpoints(
            w.vendor.id, first=first, after=after, backward=backward
        )

    await check_both_ways(endpoints, sorted(hook.id for hook in made))

    # Four events fanned out at two instants to the 8 endpoints: ties on created_at.
    for n in range(4):
        await register(store, w, w.p, n + 1, product_line=f"line-{n}")
        await store.fan_out_outbox(now=at(10 + n // 2), limit=100)
    newest_first = await store.list_webhook_deliveries(w.vendor.id, first=100)
    assert len(newest_first.items) == 32

    async def deliveries(first: int, after: str | None, backward: bool) -> Page[Any]:
        return await store.list_webhook_deliveries(
            w.vendor.id, first=first, after=after, backward=backward
        )

    await check_both_ways(deliveries, _ids(newest_first))
