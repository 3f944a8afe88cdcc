"""Contract: the webhook outbox (written with every deal registration and introduction /
ask transition, never for a refused one), fan-out to subscribed endpoints (also under
concurrent dispatchers), leased claims, attempts, redelivery, deactivation, listing and
tenant scoping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from graph.deals import DealStatus, DealTransition, OpportunityStatus
from graph.errors import BadInput, Conflict
from graph.intros import AskStatus, IntroducedEdge, Introduction, IntroStatus
from graph.model import KeyState, Org, Partnership, PartnershipStatus
from graph.outbox import iso
from graph.port import GraphStore
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from tests.factories import (
    at,
    make_ask,
    make_introduction,
    make_opportunity,
    make_org,
    make_registration,
    make_upsert,
    new_id,
)

V1 = KeyState()
DEAL, INTRO = WebhookEventType.DEAL_REGISTRATION, WebhookEventType.INTRODUCTION
PENDING, SUCCEEDED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED
PENDING_REVIEW, APPROVED = DealStatus.PENDING_REVIEW, DealStatus.APPROVED


@dataclass
class World:
    vendor: Org
    p: Org  # a partner
    q: Org  # another partner
    x: Org  # an org with no part in anything
    acc: dict[str, str]  # the vendor's accounts: crm_id -> id


async def world(store: GraphStore) -> World:
    vendor, p, q, x = make_org("V"), make_org("P"), make_org("Q"), make_org("X")
    for org in (vendor, p, q, x):
        await store.create_org(org)
    results = await store.upsert_accounts(
        vendor.id,
        [make_upsert("acc-1", "acme.com"), make_upsert("acc-2", "globex.com")],
        expected_state=V1,
        at=at(0),
    )
    return World(vendor, p, q, x, {r.crm_id: r.account_id for r in results})


def endpoint(
    org: Org,
    *,
    types: tuple[WebhookEventType, ...] = (DEAL, INTRO),
    active: bool = True,
    eid: str | None = None,
    created: datetime | None = None,
) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=eid or new_id(),
        org_id=org.id,
        url=f"https://hooks.example.com/{org.name}",
        event_types=types,
        secret="whsec-" + new_id(),
        created_by="user-1",
        created_at=created or at(0),
        active=active,
    )


async def outbox(store: GraphStore, org: Org) -> list[OutboxEvent]:
    page = await store.list_outbox(org.id, first=1000)
    assert not page.has_next
    return page.items


def deal_payload(
    registration_id: str, old: DealStatus | None, new: DealStatus, when: datetime
) -> dict[str, str | None]:
    return {
        "registration_id": registration_id,
        "from_status": None if old is None else old.value,
        "status": new.value,
        "at": iso(when),
    }


def intro_payload(
    kind: str, object_id: str, old: str | None, new: str, when: datetime
) -> dict[str, str | None]:
    return {
        "kind": kind,
        "object_id": object_id,
        "from_status": old,
        "status": new,
        "at": iso(when),
    }


async def deliveries(store: GraphStore, org: Org) -> list[WebhookDelivery]:
    page = await store.list_webhook_deliveries(org.id, first=1000)
    assert not page.has_next
    return page.items


async def register(
    store: GraphStore, w: World, partner: Org, when: int, product_line: str = ""
) -> str:
    """A PENDING_REVIEW registration by `partner` on the vendor's acc-1, at(when)."""
    r = make_registration(
        w.vendor.id, partner.id, w.acc["acc-1"], registered_at=at(when), product_line=product_line
    )
    return (await store.register_deal(r)).id


# --- the outbox: deal registrations -------------------------------------------------------


async def test_a_registration_and_its_review_write_one_event_per_party(store: GraphStore) -> None:
    w = await world(store)
    r = make_registration(w.vendor.id, w.p.id, w.acc["acc-1"], registered_at=at(1))
    await store.register_deal(r)
    for org in (w.vendor, w.p):
        [event] = await outbox(store, org)
        assert event.org_id == org.id
        assert event.event_type is DEAL
        assert event.payload == deal_payload(r.id, None, PENDING_REVIEW, at(1))
        assert event.created_at == at(1)
    assert await outbox(store, w.x) == []

    approved = replace(r, status=APPROVED, updated_at=at(2), expires_at=at(500))
    transition = DealTransition(r.id, at(2), PENDING_REVIEW, APPROVED, w.vendor.id, "user-2")
    assert await store.update_deal(r, approved, transition) is not None
    for org in (w.vendor, w.p):
        first, second = await outbox(store, org)
        assert first.payload == deal_payload(r.id, None, PENDING_REVIEW, at(1))
        assert second.payload == deal_payload(r.id, PENDING_REVIEW, APPROVED, at(2))
        assert second.created_at == at(2)
    # Events are addressed: each org's event has its own id.
    ids = {e.id for org in (w.vendor, w.p) for e in await outbox(store, org)}
    assert len(ids) == 4


async def test_server_moves_write_events_too(store: GraphStore) -> None:
    w = await world(store)
    # Lazy expiry inside register_deal: the lapsed approval is announced with the new one.
    old = make_registration(
        w.vendor.id, w.p.id, w.acc["acc-1"], registered_at=at(1), status=APPROVED
    )
    old = replace(old, expires_at=at(10))
    await store.register_deal(old)
    new = make_registration(w.vendor.id, w.p.id, w.acc["acc-1"], registered_at=at(20))
    await store.register_deal(new)
    payloads = [e.payload for e in await outbox(store, w.vendor)]
    assert payloads == [
        deal_payload(old.id, None, APPROVED, at(1)),
        deal_payload(old.id, APPROVED, DealStatus.EXPIRED, at(20)),
        deal_payload(new.id, None, PENDING_REVIEW, at(20)),
    ]
    assert [e.payload for e in await outbox(store, w.p)] == payloads

    # The expiry sweep.
    swept = make_registration(
        w.vendor.id, w.q.id, w.acc["acc-2"], registered_at=at(30), status=APPROVED
    )
    await store.register_deal(replace(swept, expires_at=at(40)))
    assert [r.id for r in await store.expire_deals(at(50), limit=10)] == [swept.id]
    assert (await outbox(store, w.q))[-1].payload == deal_payload(
        swept.id, APPROVED, DealStatus.EXPIRED, at(50)
    )

    # Settling on close.
    [opp_write] = await store.upsert_opportunities(
        w.vendor.id, [make_opportunity("opp-1", "acc-2")], at=at(60)
    )
    assert opp_write.opportunity_id is not None
    won = make_registration(
        w.vendor.id,
        w.q.id,
        w.acc["acc-2"],
        registered_at=at(61),
        status=APPROVED,
        opportunity_id=opp_write.opportunity_id,
    )
    await store.register_deal(won)
    await store.close_opportunity(
        w.vendor.id,
        opp_write.opportunity_id,
        status=OpportunityStatus.WON,
        closed_at=at(62),
        at=at(62),
    )
    settled = await store.settle_registrations(
        opportunity_ids=[opp_write.opportunity_id],
        outcomes={OpportunityStatus.WON: {APPROVED: DealStatus.WON}},
        at=at(63),
        limit=10,
    )
    assert [r.id for r in settled] == [won.id]
    for org in (w.vendor, w.q):
        assert (await outbox(store, org))[-1].payload == deal_payload(
            won.id, APPROVED, DealStatus.WON, at(63)
        )
    assert await outbox(store, w.x) == []


async def test_a_refused_write_writes_no_event(store: GraphStore) -> None:
    w = await world(store)
    r = make_registration(w.vendor.id, w.p.id, w.acc["acc-1"], registered_at=at(1))
    await store.register_deal(r)
    before = await outbox(store, w.vendor)
    # A lost compare-and-set (the stored status is not the one compared).
    stale = replace(r, status=APPROVED)
    moved = replace(r, status=DealStatus.WITHDRAWN, updated_at=at(2))
    transition = DealTransition(r.id, at(2), APPROVED, DealStatus.WITHDRAWN, w.p.id, None)
    assert await store.update_deal(stale, moved, transition) is None
    # A registration id taken: the whole write is refused.
    with pytest.raises(Conflict):
        await store.register_deal(replace(r, registered_at=at(3)))
    assert await outbox(store, w.vendor) == before
    assert len(await outbox(store, w.p)) == 1

    i = make_introduction(w.p, w.q, created=at(4))
    await store.insert_introduction(i)
    intro_events = await outbox(store, w.q)
    wrong = replace(i, status=IntroStatus.FORWARDED)
    assert await store.update_introduction(wrong, replace(i, status=IntroStatus.DECLINED)) is None
    a = make_ask(w.p, w.q, "acc-x", created=at(5))
    await store.insert_ask(a)
    assert await store.update_ask(replace(a, status=AskStatus.ACCEPTED), a) is None
    assert len(await outbox(store, w.q)) == len(intro_events) + 1


# --- the outbox: introductions and asks ---------------------------------------------------


def accepted(i: Introduction, when: int) -> tuple[Introduction, Partnership, IntroducedEdge]:
    p = Partnership(
        id=new_id(),
        inviter_id=i.requester_org,
        invitee_id=i.target_org,
        status=PartnershipStatus.ACTIVE,
        created_at=at(when),
        updated_at=at(when),
        activated_at=at(when),
    )
    new = replace(
        i,
        status=IntroStatus.ACCEPTED,
        decided_at=at(when),
        decided_by_org=i.target_org,
        updated_at=at(when),
        partnership_id=p.id,
    )
    edge = IntroducedEdge(
        i.id, i.broker_org or i.requester_org, i.requester_org, i.target_org, at(when)
    )
    return new, p, edge


async def test_an_introduction_and_its_moves_write_events_for_its_parties(
    store: GraphStore,
) -> None:
    w = await world(store)
    requester, target, broker = w.p, w.q, w.vendor
    i = make_introduction(requester, target, broker=broker, created=at(1))
    await store.insert_introduction(i)
    requested = intro_payload("INTRODUCTION", i.id, None, "REQUESTED", at(1))
    # The target does not know of a brokered request before the broker forwards it.
    assert [e.payload for e in await outbox(store, requester)] == [requested]
    assert [e.payload for e in await outbox(store, broker)] == [requested]
    assert await outbox(store, target) == []
    assert all(e.event_type is INTRO for e in await outbox(store, broker))

    forwarded = replace(i, status=IntroStatus.FORWARDED, forwarded_at=at(2), updated_at=at(2))
    f = await store.update_introduction(i, forwarded)
    assert f is not None
    forward = intro_payload("INTRODUCTION", i.id, "REQUESTED", "FORWARDED", at(2))
    new, p, edge = accepted(f, 3)
    assert await store.accept_introduction(f, new, p, edge) == new
    accept = intro_payload("INTRODUCTION", i.id, "FORWARDED", "ACCEPTED", at(3))
    for org in (requester, broker):
        assert [e.payload for e in await outbox(store, org)] == [requested, forward, accept]
    assert [e.payload for e in await outbox(store, target)] == [forward, accept]
    assert await outbox(store, w.x) == []

    # A direct request reaches its target at once; the expiry sweep is announced too.
    j = make_introduction(w.x, w.p, created=at(4), expires=at(10))
    await store.insert_introduction(j)
    assert [e.id for e in await store.expire_introductions(at(11), limit=10)] == [j.id]
    for org in (w.x, w.p):
        assert [e.payload for e in await outbox(store, org)][-2:] == [
            intro_payload("INTRODUCTION", j.id, None, "REQUESTED", at(4)),
            intro_payload("INTRODUCTION", j.id, "REQUESTED", "EXPIRED", at(11)),
        ]


async def test_an_accept_refused_for_a_live_partnership_writes_no_event(
    store: GraphStore,
) -> None:
    w = await world(store)
    i = make_introduction(w.p, w.q, created=at(1))
    await store.insert_introduction(i)
    before = await outbox(store, w.p)
    await store.insert_partnership(
        Partnership(
            id=new_id(),
            inviter_id=w.q.id,
            invitee_id=w.p.id,
            status=PartnershipStatus.INVITED,
            created_at=at(1),
            updated_at=at(1),
        )
    )
    new, p, edge = accepted(i, 2)
    with pytest.raises(Conflict):
        await store.accept_introduction(i, new, p, edge)
    assert await outbox(store, w.p) == before


async def test_asks_write_events_for_both_orgs(store: GraphStore) -> None:
    w = await world(store)
    a = make_ask(w.p, w.q, "acc-x", created=at(1), expires=at(100))
    await store.insert_ask(a)
    answered = replace(a, status=AskStatus.ACCEPTED, updated_at=at(2), answered_at=at(2))
    assert await store.update_ask(a, answered) is not None
    b = make_ask(w.q, w.p, "acc-y", created=at(3), expires=at(5))
    await store.insert_ask(b)
    assert [x.id for x in await store.expire_asks(at(6), limit=10)] == [b.id]
    expected = [
        intro_payload("ASK", a.id, None, "REQUESTED", at(1)),
        intro_payload("ASK", a.id, "REQUESTED", "ACCEPTED", at(2)),
        intro_payload("ASK", b.id, None, "REQUESTED", at(3)),
        intro_payload("ASK", b.id, "REQUESTED", "EXPIRED", at(6)),
    ]
    for org in (w.p, w.q):
        events = await outbox(store, org)
        assert [e.payload for e in events] == expected
        assert {e.event_type for e in events} == {INTRO}
    assert await outbox(store, w.vendor) == []


async def test_list_outbox_pages_oldest_first(store: GraphStore) -> None:
    w = await world(store)
    for n in range(5):
        await register(store, w, w.p, 10 - n, product_line=f"line-{n}")
    events = await outbox(store, w.p)
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    first = await store.list_outbox(w.p.id, first=2)
    assert first.has_next
    assert first.items == events[:2]
    second = await store.list_outbox(w.p.id, first=2, after=first.cursors[-1])
    assert second.items == events[2:4]
    third = await store.list_outbox(w.p.id, first=2, after=second.cursors[-1])
    assert third.items == events[4:]
    assert not third.has_next
    with pytest.raises(BadInput):
        await store.list_outbox(w.p.id, first=2, after="nonsense")


# --- endpoints ---------------------------------------------------------------------------


async def test_endpoints_are_scoped_to_their_org(store: GraphStore) -> None:
    w = await world(store)
    ids = sorted(new_id() for _ in range(3))
    mine = [endpoint(w.p, eid=ids[0]), endpoint(w.p, eid=ids[1], types=(INTRO,))]
    theirs = endpoint(w.q, eid=ids[2])
    for e in (*mine, theirs):
        assert await store.create_webhook_endpoint(e) == e
    with pytest.raises(Conflict):
        await store.create_webhook_endpoint(replace(mine[0], url="https://other.example.com"))
    assert await store.get_webhook_endpoints(w.p.id, ids) == {e.id: e for e in mine}
    assert await store.get_webhook_endpoints(w.q.id, ids) == {theirs.id: theirs}
    assert await store.get_webhook_endpoints(w.x.id, ids) == {}
    page = await store.list_webhook_endpoints(w.p.id, first=1)
    assert page.items == [mine[0]]
    assert page.has_next
    rest = await store.list_webhook_endpoints(w.p.id, first=5, after=page.cursors[-1])
    assert rest.items == [mine[1]]
    assert not rest.has_next
    assert (await store.list_webhook_endpoints(w.x.id, first=5)).items == []

    assert await store.deactivate_webhook_endpoint(w.q.id, mine[0].id) is None
    gone = await store.deactivate_webhook_endpoint(w.p.id, mine[0].id)
    assert gone == replace(mine[0], active=False)
    assert (await store.list_webhook_endpoints(w.p.id, first=5)).items == [mine[1]]
    assert await store.get_webhook_endpoints(w.p.id, [mine[0].id]) == {mine[0].id: gone}


# --- fan-out ------------------------------------------------------------------------------


async def test_fan_out_delivers_to_the_addressees_subscribed_active_endpoints(
    store: GraphStore,
) -> None:
    w = await world(store)
    deals_only = endpoint(w.vendor, types=(DEAL,))
    intros_only = endpoint(w.vendor, types=(INTRO,))
    inactive = endpoint(w.vendor, active=False)
    partner_hook = endpoint(w.p)
    outsider = endpoint(w.x)
    for e in (deals_only, intros_only, inactive, partner_hook, outsider):
        await store.create_webhook_endpoint(e)
    rid = await register(store, w, w.p, 1)
    vendor_event = (await outbox(store, w.vendor))[0]
    partner_event = (await outbox(store, w.p))[0]

    assert await store.fan_out_outbox(now=at(5), limit=100) == 2
    assert await store.fan_out_outbox(now=at(6), limit=100) == 0
    [d] = await deliveries(store, w.vendor)
    assert (d.org_id, d.endpoint_id, d.event_id) == (w.vendor.id, deals_only.id, vendor_event.id)
    assert d.event_type is DEAL
    assert d.payload == deal_payload(rid, None, PENDING_REVIEW, at(1))
    assert d.event_at == at(1)
    assert d.created_at == at(5)
    assert (d.status, d.attempts, d.next_attempt_at) == (PENDING, 0, at(5))
    assert (d.last_attempt_at, d.last_status_code, d.last_error, d.delivered_at) == (
        None,
        None,
        None,
        None,
    )
    [pd] = await deliveries(store, w.p)
    assert (pd.endpoint_id, pd.event_id) == (partner_hook.id, partner_event.id)
    assert await deliveries(store, w.x) == []
    # An event with no endpoint to receive it is still taken (and never again).
    await store.insert_ask(make_ask(w.x, w.q, "acc-x", created=at(7)))
    assert await store.fan_out_outbox(now=at(8), limit=100) == 2
    assert await store.fan_out_outbox(now=at(9), limit=100) == 0
    assert [x.event_type for x in await deliveries(store, w.x)] == [INTRO]


async def test_fan_out_takes_the_oldest_first_up_to_the_limit(store: GraphStore) -> None:
    w = await world(store)
    hook = endpoint(w.p)
    await store.create_webhook_endpoint(hook)
    for n in range(5):
        await register(store, w, w.p, 10 - n, product_line=f"line-{n}")
    events = await outbox(store, w.p)
    assert await store.fan_out_outbox(now=at(20), limit=6) == 6  # vendor's and p's, mixed
    assert await store.fan_out_outbox(now=at(21), limit=6) == 4
    assert await store.fan_out_outbox(now=at(22), limit=6) == 0
    by_event = {d.event_id: d for d in await deliveries(store, w.p)}
    assert set(by_event) == {e.id for e in events}
    # The three oldest (at 6, 7, 8) went in the first batch: both orgs' events of a time.
    assert sorted(e.created_at for e in events if by_event[e.id].created_at == at(20)) == [
        at(6),
        at(7),
        at(8),
    ]


async def test_concurrent_fan_outs_never_duplicate_deliveries(store: GraphStore) -> None:
    w = await world(store)
    hooks = [endpoint(w.vendor), endpoint(w.vendor, types=(DEAL,)), endpoint(w.p)]
    for h in hooks:
        await store.create_webhook_endpoint(h)
    for n in range(12):
        await register(store, w, w.p if n % 2 else w.q, n + 1, product_line=f"line-{n}")
    total = 24  # vendor + partner per registration

    async def drain(limit: int) -> int:
        taken = 0
        while n := await store.fan_out_outbox(now=at(100), limit=limit):
            taken += n
        return taken

    counts = await asyncio.gather(
        store.fan_out_outbox(now=at(100), limit=100), store.fan_out_outbox(now=at(100), limit=100)
    )
    assert sum(counts) == total
    assert await store.fan_out_outbox(now=at(101), limit=100) == 0
    vendor_deliveries = await deliveries(store, w.vendor)
    assert len(vendor_deliveries) == 12 * 2
    assert len({(d.event_id, d.endpoint_id) for d in vendor_deliveries}) == 24
    assert len(await deliveries(store, w.p)) == 6

    # Again with small batches racing: every event taken exactly once.
    for n in range(12, 22):
        await register(store, w, w.q, n + 1, product_line=f"line-{n}")
    taken = await asyncio.gather(drain(3), drain(3), drain(4))
    assert sum(taken) == 20
    vendor_deliveries = await deliveries(store, w.vendor)
    assert len(vendor_deliveries) == 22 * 2
    assert len({(d.event_id, d.endpoint_id) for d in vendor_deliveries}) == 44


# --- claims, attempts ---------------------------------------------------------------------


async def fanned_out(store: GraphStore, w: World, n: int, *, now: datetime) -> list[str]:
    """n PENDING deliveries to the vendor's one endpoint, due at `now`; their ids."""
    await store.create_webhook_endpoint(endpoint(w.vendor, types=(DEAL,)))
    for k in range(n):
        await register(store, w, w.p, k + 1, product_line=f"line-{k}")
    while await store.fan_out_outbox(now=now, limit=100):
        pass
    return sorted(d.id for d in await deliveries(store, w.vendor))


async def test_claims_lease_due_deliveries_with_their_target(store: GraphStore) -> None:
    w = await world(store)
    ids = await fanned_out(store, w, 3, now=at(10))
    hook = (await store.list_webhook_endpoints(w.vendor.id, first=5)).items[0]
    assert await store.claim_due_deliveries(now=at(9), lease_until=at(11), limit=10) == []
    claimed = await store.claim_due_deliveries(now=at(10), lease_until=at(12), limit=2)
    assert len(claimed) == 2
    for due in claimed:
        assert (due.url, due.secret) == (hook.url, hook.secret)
        assert due.delivery.status is PENDING
        assert due.delivery.org_id == w.vendor.id
    # Leased: not claimed again before the lease runs out, the third one is.
    rest = await store.claim_due_deliveries(now=at(11), lease_until=at(13), limit=10)
    assert [d.delivery.id for d in rest] == sorted(set(ids) - {d.delivery.id for d in claimed})
    assert await store.claim_due_deliveries(now=at(11), lease_until=at(13), limit=10) == []
    # The first lease expired (at 12): claimable again.
    again = await store.claim_due_deliveries(now=at(12), lease_until=at(14), limit=10)
    assert sorted(d.delivery.id for d in again) == sorted(d.delivery.id for d in claimed)


async def test_concurrent_claims_never_share_a_delivery(store: GraphStore) -> None:
    w = await world(store)
    ids = await fanned_out(store, w, 10, now=at(50))
    batches = await asyncio.gather(
        *(store.claim_due_deliveries(now=at(50), lease_until=at(60), limit=4) for _ in range(4))
    )
    claimed = [d.delivery.id for batch in batches for d in batch]
    assert len(claimed) == len(set(claimed))
    assert set(claimed) <= set(ids)
    assert (
        sorted(
            claimed
            + [
                d.delivery.id
                for d in await store.claim_due_deliveries(now=at(50), lease_until=at(60), limit=100)
            ]
        )
        == ids
    )


async def test_attempts_settle_or_reschedule_a_delivery(store: GraphStore) -> None:
    w = await world(store)
    d1, d2, d3 = await fanned_out(store, w, 3, now=at(10))
    await store.claim_due_deliveries(now=at(10), lease_until=at(20), limit=10)

    ok = await store.record_delivery_attempt(d1, AttemptOutcome(at(11), True, 204, None, None))
    assert ok is not None
    assert (ok.status, ok.attempts, ok.next_attempt_at, ok.delivered_at) == (
        SUCCEEDED,
        1,
        None,
        at(11),
    )
    assert (ok.last_attempt_at, ok.last_status_code, ok.last_error) == (at(11), 204, None)

    retry = AttemptOutcome(at(12), False, 503, "HTTP 503", at(15))
    later = await store.record_delivery_attempt(d2, retry)
    assert later is not None
    assert (later.status, later.attempts, later.next_attempt_at) == (PENDING, 1, at(15))
    assert (later.last_status_code, later.last_error, later.delivered_at) == (503, "HTTP 503", None)
    # The lease is released: due again at 15, before the old lease (20) runs out.
    assert await store.claim_due_deliveries(now=at(14), lease_until=at(30), limit=10) == []
    [due] = await store.claim_due_deliveries(now=at(15), lease_until=at(30), limit=10)
    assert due.delivery.id == d2
    gave_up = await store.record_delivery_attempt(
        d2, AttemptOutcome(at(16), False, None, "timed out", None)
    )
    assert gave_up is not None
    assert (gave_up.status, gave_up.attempts, gave_up.next_attempt_at) == (FAILED, 2, None)
    assert (gave_up.last_status_code, gave_up.last_error) == (None, "timed out")

    # Settled ones take no more attempts.
    assert await store.record_delivery_attempt(d1, retry) is None
    assert await store.record_delivery_attempt(d2, retry) is None
    assert await store.record_delivery_attempt("no-such", retry) is None
    stored = await store.get_webhook_deliveries(w.vendor.id, [d1, d2, d3])
    assert stored[d1] == ok
    assert stored[d2] == gave_up
    assert stored[d3].status is PENDING
    assert stored[d3].attempts == 0


async def test_redeliver(store: GraphStore) -> None:
    w = await world(store)
    d1, d2, d3 = await fanned_out(store, w, 3, now=at(10))
    await store.claim_due_deliveries(now=at(10), lease_until=at(20), limit=10)
    await store.record_delivery_attempt(d1, AttemptOutcome(at(11), False, 500, "HTTP 500", None))
    await store.record_delivery_attempt(d2, AttemptOutcome(at(11), True, 200, None, None))

    again = await store.redeliver_webhook(w.vendor.id, d1, now=at(30))
    assert again is not None
    assert (again.status, again.attempts, again.next_attempt_at) == (PENDING, 1, at(30))
    assert again.last_error == "HTTP 500"
    due = await store.claim_due_deliveries(now=at(30), lease_until=at(40), limit=10)
    assert sorted(d.delivery.id for d in due) == [d1, d3]  # d3's lease ran out at 20
    done = await store.redeliver_webhook(w.vendor.id, d2, now=at(31))
    assert done is not None
    assert (done.status, done.attempts) == (PENDING, 1)
    # Already PENDING: unchanged.
    pending = (await store.get_webhook_deliveries(w.vendor.id, [d3]))[d3]
    assert await store.redeliver_webhook(w.vendor.id, d3, now=at(32)) == pending
    # Not the acting org's.
    assert await store.redeliver_webhook(w.p.id, d1, now=at(33)) is None
    assert await store.redeliver_webhook(w.vendor.id, "no-such", now=at(33)) is None
    # The endpoint was deleted: refused.
    await store.record_delivery_attempt(d2, AttemptOutcome(at(34), True, 200, None, None))
    hook = (await store.list_webhook_endpoints(w.vendor.id, first=5)).items[0]
    await store.deactivate_webhook_endpoint(w.vendor.id, hook.id)
    with pytest.raises(BadInput):
        await store.redeliver_webhook(w.vendor.id, d2, now=at(35))


async def test_deactivating_fails_pending_deliveries(store: GraphStore) -> None:
    w = await world(store)
    d1, d2, d3 = await fanned_out(store, w, 3, now=at(10))
    await store.claim_due_deliveries(now=at(10), lease_until=at(20), limit=1)
    await store.record_delivery_attempt(d1, AttemptOutcome(at(11), True, 200, None, None))
    hook = (await store.list_webhook_endpoints(w.vendor.id, first=5)).items[0]
    other = endpoint(w.vendor)
    await store.create_webhook_endpoint(other)
    await register(store, w, w.q, 40, product_line="other")
    await store.fan_out_outbox(now=at(41), limit=100)

    await store.deactivate_webhook_endpoint(w.vendor.id, hook.id)
    stored = await store.get_webhook_deliveries(w.vendor.id, [d1, d2, d3])
    assert stored[d1].status is SUCCEEDED
    for d in (stored[d2], stored[d3]):
        assert (d.status, d.next_attempt_at, d.last_error) == (FAILED, None, "endpoint deleted")
    # The other endpoint's delivery is untouched and still claimable; none of the dead one.
    claimed = await store.claim_due_deliveries(now=at(50), lease_until=at(60), limit=10)
    assert [c.delivery.endpoint_id for c in claimed] == [other.id]
    # New events no longer fan out to it.
    await register(store, w, w.q, 60, product_line="third")
    await store.fan_out_outbox(now=at(61), limit=100)
    assert hook.id not in {
        d.endpoint_id for d in await deliveries(store, w.vendor) if d.created_at == at(61)
    }


async def test_list_deliveries_newest_first_with_filters(store: GraphStore) -> None:
    w = await world(store)
    a, b = endpoint(w.vendor, types=(DEAL,)), endpoint(w.vendor)
    await store.create_webhook_endpoint(a)
    await store.create_webhook_endpoint(b)
    for n in range(3):
        await register(store, w, w.p, n + 1, product_line=f"line-{n}")
        await store.fan_out_outbox(now=at(10 + n), limit=100)
    everything = await deliveries(store, w.vendor)
    assert len(everything) == 6
    keys = [(d.created_at, d.id) for d in everything]
    assert keys == sorted(keys, reverse=True)
    assert everything[0].created_at == at(12)

    page1 = await store.list_webhook_deliveries(w.vendor.id, first=4)
    assert page1.items == everything[:4]
    assert page1.has_next
    page2 = await store.list_webhook_deliveries(w.vendor.id, first=4, after=page1.cursors[-1])
    assert page2.items == everything[4:]
    assert not page2.has_next

    only_a = await store.list_webhook_deliveries(w.vendor.id, endpoint_id=a.id, first=10)
    assert only_a.items == [d for d in everything if d.endpoint_id == a.id]
    assert len(only_a.items) == 3
    first_a = await store.list_webhook_deliveries(w.vendor.id, endpoint_id=a.id, first=2)
    next_a = await store.list_webhook_deliveries(
        w.vendor.id, endpoint_id=a.id, first=2, after=first_a.cursors[-1]
    )
    assert first_a.items + next_a.items == only_a.items

    await store.claim_due_deliveries(now=at(20), lease_until=at(30), limit=10)
    target = everything[1].id
    await store.record_delivery_attempt(target, AttemptOutcome(at(21), True, 200, None, None))
    done = await store.list_webhook_deliveries(w.vendor.id, status=SUCCEEDED, first=10)
    assert [d.id for d in done.items] == [target]
    pending = await store.list_webhook_deliveries(w.vendor.id, status=PENDING, first=10)
    assert [d.id for d in pending.items] == [d.id for d in everything if d.id != target]
    none = await store.list_webhook_deliveries(
        w.vendor.id, endpoint_id=b.id, status=FAILED, first=10
    )
    assert none.items == []
    with pytest.raises(BadInput):
        await store.list_webhook_deliveries(w.vendor.id, first=2, after="[1, 2]")


async def test_deliveries_are_scoped_to_their_org(store: GraphStore) -> None:
    w = await world(store)
    await store.create_webhook_endpoint(endpoint(w.vendor))
    await store.create_webhook_endpoint(endpoint(w.p))
    await register(store, w, w.p, 1)
    await store.fan_out_outbox(now=at(2), limit=100)
    [mine] = await deliveries(store, w.vendor)
    [theirs] = await deliveries(store, w.p)
    assert mine.org_id == w.vendor.id
    assert theirs.org_id == w.p.id
    ids = [mine.id, theirs.id]
    assert await store.get_webhook_deliveries(w.vendor.id, ids) == {mine.id: mine}
    assert await store.get_webhook_deliveries(w.p.id, ids) == {theirs.id: theirs}
    assert await store.get_webhook_deliveries(w.x.id, ids) == {}
    assert await deliveries(store, w.x) == []
    # Filtering by another org's endpoint finds nothing.
    other = await store.list_webhook_deliveries(
        w.vendor.id, endpoint_id=theirs.endpoint_id, first=5
    )
    assert other.items == []
