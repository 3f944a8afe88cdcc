"""Every seeded vendor's touches: which partners influenced its closed deals.

Replayed through the real services (`touches.record` and `touches.confirm`) with the
seeded users as actors: the vendor's admin records touches by its ACTIVE partners on its
WON and LOST opportunities (some on the account instead), at times inside the year
before each close, so won deals have paths from several partners; a partner's sales rep
records a touch or two on some of its own deal registrations (PENDING), most of which
the vendor's admin then confirms, a few it rejects.

A partner that took part in an accepted introduction (an INTRODUCED edge) and touches a
deal that closed after the introduction touches it after the introduction, so the deal
gets multi-hop paths from the introducer.

The plan is drawn from (seed, vendor, opportunity crm id) and (seed, registration id);
the external ids are derived from the same, so a reload replaces every touch with
itself (partner-recorded ones go back to PENDING and are confirmed or rejected again,
the same way).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from graph.deals import DealRegistration, DealStatus, Opportunity, OpportunityStatus
from graph.identity import IdentityStore, Role
from graph.intros import IntroducedEdge
from graph.model import Org, OrgType, PartnershipStatus
from graph.port import GraphStore
from graph.touches import TouchKind, TouchStatus
from resolvers.influence import touches
from resolvers.influence.touches import TouchInput, TouchRowStatus
from seed.generator import EPOCH, Ecosystem, SeedUser
from seed.pipeline import actor_for

WINDOW = timedelta(days=365)
# Kinds a vendor or partner records by hand (DEAL_REGISTRATION touches come from
# approved registrations by themselves), with their relative frequency.
KINDS = (
    (TouchKind.CO_SELL_MEETING, 5),
    (TouchKind.REFERRAL, 3),
    (TouchKind.TECHNICAL_WIN, 3),
    (TouchKind.INTRO, 2),
    (TouchKind.EVENT, 2),
    (TouchKind.CONTENT, 2),
    (TouchKind.INTEGRATION, 1),
)
# How many partners touch a deal: won deals draw from the first list, lost from the second.
PARTNERS_WON = ((1, 2), (2, 4), (3, 3), (4, 1))
PARTNERS_LOST = ((0, 3), (1, 4), (2, 2))
_PAGE = 1_000
_CALL = 2_000  # rows per record call (the API allows 5,000)


@dataclass(frozen=True, slots=True)
class TouchCounts:
    created: int = 0  # touches this load made (a reload replaces, making none)
    by_status: dict[TouchStatus, int] = field(default_factory=dict)  # the load's touches


def _partners(eco: Ecosystem, vendor: Org) -> list[str]:
    """The vendor's ACTIVE non-vendor partners, by id."""
    orgs = {o.id: o for o in eco.orgs}
    found = set()
    for p in eco.partnerships:
        if p.status is PartnershipStatus.ACTIVE and vendor.id in (p.inviter_id, p.invitee_id):
            other = orgs[p.invitee_id if p.inviter_id == vendor.id else p.inviter_id]
            if OrgType.VENDOR not in other.types:
                found.add(other.id)
    return sorted(found)


def _draw(rng: random.Random, table: tuple[tuple[int, int], ...]) -> int:
    return rng.choices([n for n, _ in table], weights=[w for _, w in table])[0]


def _kind(rng: random.Random) -> TouchKind:
    return rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]


def _weight(rng: random.Random) -> Decimal | None:
    draw = rng.random()
    if draw < 0.8:
        return None  # 1
    return Decimal("0.5") if draw < 0.9 else Decimal(2)


def plan_opportunity(
    seed: int,
    vendor: Org,
    opportunity: Opportunity,
    partners: list[str],
    edges: dict[str, list[IntroducedEdge]],
) -> list[TouchInput]:
    """The vendor's touches on one closed opportunity (a pure function of its input)."""
    assert opportunity.closed_at is not None
    # Drawn from what the seed fixes (not from ids the services make), so a fresh load
    # with the same `now` makes the same touches.
    rng = random.Random(
        f"{seed}/{vendor.id}/touches/{opportunity.name}/{opportunity.created_at.isoformat()}"
    )
    won = opportunity.status is OpportunityStatus.WON
    count = min(len(partners), _draw(rng, PARTNERS_WON if won else PARTNERS_LOST))
    closed = opportunity.closed_at
    start = closed - WINDOW
    # Partners introduced before the close are the likelier to have helped.
    introduced = [p for p in partners if any(start <= e.at <= closed for e in edges.get(p, ()))]
    chosen: list[str] = []
    if introduced and won and rng.random() < 0.8:
        chosen.append(rng.choice(introduced))
    others = [p for p in partners if p not in chosen]
    chosen += rng.sample(others, max(0, count - len(chosen)))
    rows: list[TouchInput] = []
    for partner in chosen:
        after = [e.at for e in edges.get(partner, ()) if start <= e.at <= closed]
        earliest = min(after) if after else max(start, opportunity.created_at - timedelta(days=90))
        for _ in range(rng.choice((1, 1, 2, 3))):
            span = (closed - earliest).total_seconds()
            at = earliest + timedelta(seconds=rng.uniform(0.02, 0.98) * span)
            on_account = rng.random() < 0.2
            rows.append(
                TouchInput(
                    external_id=f"seed:{opportunity.crm_id}:{len(rows)}",
                    kind=_kind(rng),
                    at=at.replace(microsecond=0),
                    weight=_weight(rng),
                    partner_org=partner,
                    account_id=opportunity.account_id if on_account else None,
                    opportunity_id=None if on_account else opportunity.id,
                )
            )
    return rows


def plan_registration(seed: int, registration: DealRegistration, now: datetime) -> list[TouchInput]:
    """A partner's own touches on one of its registrations: none for most."""
    rng = random.Random(_registration_key(seed, registration))
    if registration.status in (DealStatus.REJECTED, DealStatus.WITHDRAWN):
        return []
    if rng.random() >= 0.5:
        return []
    start = registration.registered_at
    end = min(start + timedelta(days=60), now - timedelta(minutes=1))
    if end <= start:
        return []
    rows: list[TouchInput] = []
    for n in range(rng.choice((1, 1, 2))):
        at = start + (end - start) * rng.uniform(0.05, 0.95)
        rows.append(
            TouchInput(
                external_id=f"seed:reg:{registration.id}:{n}",
                kind=_kind(rng),
                at=at.replace(microsecond=0),
                weight=_weight(rng),
                registration_id=registration.id,
            )
        )
    return rows


def _registration_key(seed: int, registration: DealRegistration) -> str:
    at = registration.registered_at.isoformat()
    return f"{seed}/touches/{registration.partner_org}/{at}/{registration.amount}"


async def _closed(graph: GraphStore, vendor: str, now: datetime) -> list[Opportunity]:
    found: list[Opportunity] = []
    after = None
    while True:
        page = await graph.closed_opportunities(
            vendor,
            closed_from=EPOCH - timedelta(days=3_650),
            closed_to=now + timedelta(days=1),
            first=_PAGE,
            after=after,
        )
        found += page.items
        if not page.has_next:
            return found
        after = page.cursors[-1]


async def _registrations(graph: GraphStore, vendor: str) -> list[DealRegistration]:
    found: list[DealRegistration] = []
    after = None
    while True:
        page = await graph.list_deals(vendor, side="vendor", first=_PAGE, after=after)
        found += page.items
        if not page.has_next:
            return sorted(found, key=lambda r: r.id)
        after = page.cursors[-1]


async def seed_touches(
    graph: GraphStore, identity: IdentityStore, eco: Ecosystem, *, now: datetime
) -> TouchCounts:
    users: dict[tuple[str, Role], SeedUser] = {(u.org_id, u.role): u for u in eco.users}
    created = 0
    statuses: Counter[TouchStatus] = Counter()
    for vendor in [o for o in eco.orgs if OrgType.VENDOR in o.types]:
        admin = actor_for(users[(vendor.id, Role.ADMIN)])
        partners = _partners(eco, vendor)
        if not partners:
            continue
        edges: dict[str, list[IntroducedEdge]] = defaultdict(list)
        for edge in await graph.introduced_edges(partners):
            for org in {edge.from_org, edge.to_org} - {edge.credited_org}:
                edges[org].append(edge)
        rows = [
            row
            for opportunity in await _closed(graph, vendor.id, now)
            for row in plan_opportunity(eco.seed, vendor, opportunity, partners, edges)
        ]
        for start in range(0, len(rows), _CALL):
            results = await touches.record(
                graph, identity, admin, rows[start : start + _CALL], now=now
            )
            rejected = [r for r in results if r.status is not TouchRowStatus.RECORDED]
            assert not rejected, rejected[:3]
            created += sum(r.created for r in results)
            statuses[TouchStatus.CONFIRMED] += len(results)
        by_partner: dict[str, list[tuple[DealRegistration, TouchInput]]] = defaultdict(list)
        for registration in await _registrations(graph, vendor.id):
            for row in plan_registration(eco.seed, registration, now):
                by_partner[registration.partner_org].append((registration, row))
        decisions: dict[bool, list[str]] = {True: [], False: []}
        for partner, planned in sorted(by_partner.items()):
            rep = actor_for(users[(partner, Role.SALES_REP)])
            results = await touches.record(
                graph, identity, rep, [row for _, row in planned], now=now
            )
            for (registration, row), result in zip(planned, results, strict=True):
                assert result.touch_id is not None, result
                created += result.created
                number = row.external_id.rsplit(":", 1)[1]
                key = f"{_registration_key(eco.seed, registration)}/{number}/decision"
                draw = random.Random(key).random()
                if draw < 0.8:
                    decisions[True].append(result.touch_id)
                elif draw < 0.9:
                    decisions[False].append(result.touch_id)
                else:
                    statuses[TouchStatus.PENDING] += 1
        for accept, ids in decisions.items():
            if ids:
                moved = await touches.confirm(graph, identity, admin, ids, accept=accept, now=now)
                statuses[TouchStatus.CONFIRMED if accept else TouchStatus.REJECTED] += len(moved)
    return TouchCounts(created, dict(statuses))
