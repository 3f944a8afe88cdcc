"""Every seeded vendor's pipeline: opportunities, then partners' deal registrations.

Opportunities are a pure function of (scale, seed, vendor), like accounts: OPEN ones on
the vendor's OPEN_OPPORTUNITY accounts, a WON / LOST history on some CUSTOMER and CHURNED
accounts, all dated in the past, loaded by crm_id so a reload rewrites the same rows.

Registrations go through the real services (`register_deal`, `review`, `withdraw`,
closing an opportunity and `settle`), replayed in time order over the weeks before the
load, so the checks, the store's first-in claims and the lifecycle are the ones the API
runs. The plan (who registers which company, with which role, amount and product line,
and what the vendor then does) is drawn from (seed, vendor); the ids the services make
are not, so a vendor that already has registrations is skipped on reload.

The mix: partners register accounts they share with the vendor (same company domain)
and some of their own accounts the vendor lacks (NEW_PROSPECT); every partner sharing
the vendor's most contested account registers it too, so exclusive partners collide
(DUPLICATE) and co-sellers co-register; OPEN pipeline gives EXISTING_PIPELINE; vendors
with an even position keep CHURNED accounts direct-only (DIRECT_ONLY). The vendor
approves, rejects or leaves each live registration; some approvals get an opportunity
that later closes WON or LOST; old approvals read EXPIRED; a few partners withdraw.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from graph.deals import (
    DealProgram,
    DealRegistration,
    DealRole,
    DealStatus,
    OpportunityStatus,
    OpportunityUpsert,
)
from graph.errors import Conflict, IllegalTransition
from graph.identity import IdentityStore, Role, TokenKind, TokenScope
from graph.model import Org, OrgType, PartnershipStatus
from graph.port import GraphStore
from privacy.keyring import Keyring
from resolvers.accounts import AccountInput
from resolvers.actor import Actor
from resolvers.deals import lifecycle, rules
from resolvers.deals.lifecycle import Decision
from resolvers.deals.registration import DealRequest, register_deal
from resolvers.ids import new_id
from seed.accounts import accounts_for, company
from seed.generator import EPOCH, Ecosystem, SeedUser, _ulid

PRODUCTS = ("Platform", "Analytics", "Security")
OPEN_STAGES = ("Discovery", "Qualification", "Proposal", "Negotiation")
CURRENCY_BY_TLD = (  # longest suffix first
    (".co.uk", "GBP"),
    (".com.au", "AUD"),
    (".de", "EUR"),
    (".fr", "EUR"),
    (".ca", "CAD"),
)
# The CRM sync that loaded the history: after every seeded creation and close date.
SYNC_AT = EPOCH + timedelta(days=540)
# Partner type -> the role it registers with (first match in this order).
ROLE_BY_TYPE = (
    (OrgType.RESELLER, DealRole.RESELLER),
    (OrgType.REFERRAL, DealRole.REFERRAL),
    (OrgType.MSP, DealRole.RESELLER),  # managed service providers resell
    (OrgType.SI, DealRole.SI),
    (OrgType.ISV, DealRole.ISV),
    (OrgType.INFLUENCER, DealRole.INFLUENCER),
)
MAX_REGISTERING_PARTNERS = 40  # per vendor; bounds the large scale
MAX_HOT_REGISTRANTS = 6
APPROVE_NOTES = (
    "Approved: partner is engaged with the buying committee",
    "Approved: matches our territory plan",
    "Approved: partner brought the first meeting",
)
REJECT_NOTES = (
    "Rejected: our direct team is already engaged",
    "Rejected: the account is outside the partner's territory",
    "Rejected: not enough information about the opportunity",
)
WITHDRAW_NOTE = "Customer paused the project"


@dataclass(frozen=True, slots=True)
class PipelineCounts:
    opportunities_created: int = 0
    opportunities_updated: int = 0
    vendors_seeded: int = 0  # vendors whose registrations this load created
    vendors_present: int = 0  # vendors skipped: registrations existed already
    registrations: dict[DealStatus, int] = field(default_factory=dict)  # as of the load


# --- opportunities ----------------------------------------------------------------------


def company_index(row: AccountInput) -> int:
    """The company (seed.accounts.company index) behind a seeded account row."""
    return int(row.crm_id.rsplit("-", 1)[1])


def currency_for(domain: str) -> str:
    return next((c for suffix, c in CURRENCY_BY_TLD if domain.endswith(suffix)), "USD")


def deal_amount(rng: random.Random) -> Decimal:
    """Log-normal around 40k (most deals 10k-150k, a few above a million), rounded the
    way CRMs hold them: to the hundred, some with cents."""
    raw = math.exp(rng.gauss(math.log(40_000), 0.9))
    if rng.random() < 0.2:
        return Decimal(f"{raw:.2f}")
    return Decimal(round(raw, -2)).quantize(Decimal("0.01"))


def opportunities_for(scale: str, seed: int, vendor: Org) -> Iterator[OpportunityUpsert]:
    """The vendor's CRM pipeline, lazily (constant memory at any scale)."""
    rng = random.Random(f"{seed}/{vendor.id}/opportunities")
    tag = vendor.id[-6:]
    for row in accounts_for(scale, seed, vendor):
        index = company_index(row)
        firm = company(seed, index)
        currency = currency_for(firm.domain)
        plan: list[OpportunityStatus] = []
        population = row.populations[0]
        if population == "OPEN_OPPORTUNITY":
            plan.append(OpportunityStatus.OPEN)
            if rng.random() < 0.3:
                plan.append(rng.choice((OpportunityStatus.WON, OpportunityStatus.LOST)))
        elif population == "CUSTOMER" and rng.random() < 0.6:
            plan.append(OpportunityStatus.WON)
            if rng.random() < 0.25:
                plan.append(OpportunityStatus.LOST)
        elif population == "CHURNED" and rng.random() < 0.7:
            plan.append(OpportunityStatus.WON)
        for number, status in enumerate(plan):
            product = rng.choice(PRODUCTS)
            if status is OpportunityStatus.OPEN:
                created = vendor.created_at + timedelta(days=rng.uniform(120, 480))
                closed = None
                stage = rng.choice(OPEN_STAGES)
            else:
                created = vendor.created_at + timedelta(days=rng.uniform(10, 300))
                closed = created + timedelta(days=rng.uniform(14, 150))
                stage = "Closed Won" if status is OpportunityStatus.WON else "Closed Lost"
            yield OpportunityUpsert(
                crm_id=f"opp-{tag}-{index:08d}-{number}",
                new_id=_ulid(rng, created),
                account_crm_id=row.crm_id,
                name=f"{firm.name} - {product}",
                amount=deal_amount(rng),
                currency=currency,
                stage=stage,
                status=status,
                created_at=created,
                closed_at=closed,
            )


async def load_opportunities(
    graph: GraphStore, scale: str, seed: int, vendor: Org, *, batch_size: int
) -> tuple[int, int]:
    created = updated = 0
    rows = opportunities_for(scale, seed, vendor)
    while batch := list(itertools.islice(rows, batch_size)):
        written = await graph.upsert_opportunities(vendor.id, batch, at=SYNC_AT)
        missing = [w.crm_id for w in written if w.opportunity_id is None]
        assert not missing, f"opportunities on unknown accounts: {missing[:3]}"
        created += sum(w.created for w in written)
        updated += sum(not w.created for w in written)
    return created, updated


# --- registrations: the plan ------------------------------------------------------------


def role_for(partner: Org) -> DealRole | None:
    return next((role for t, role in ROLE_BY_TYPE if t in partner.types), None)


def program_for(eco: Ecosystem, vendor: Org) -> DealProgram | None:
    """Vendors at even positions sell to churned accounts directly (win-back team)."""
    vendors = [o for o in eco.orgs if OrgType.VENDOR in o.types]
    if vendors.index(vendor) % 2 == 0:
        return DealProgram(vendor.id, direct_only_populations=frozenset({"CHURNED"}))
    return None


@dataclass(frozen=True, slots=True)
class Intent:
    partner: Org
    role: DealRole
    index: int  # the company
    product: str
    at: datetime


def plan_registrations(eco: Ecosystem, vendor: Org, now: datetime) -> list[Intent]:
    rng = random.Random(f"{eco.seed}/{vendor.id}/registrations")
    orgs = {o.id: o for o in eco.orgs}
    partners: list[tuple[Org, DealRole]] = []
    for p in eco.partnerships:
        if p.status is not PartnershipStatus.ACTIVE:
            continue
        if vendor.id not in (p.inviter_id, p.invitee_id):
            continue
        other = orgs[p.invitee_id if p.inviter_id == vendor.id else p.inviter_id]
        role = role_for(other)
        if OrgType.VENDOR not in other.types and role is not None:
            partners.append((other, role))
    partners.sort(key=lambda pair: pair[0].id)
    partners = partners[:MAX_REGISTERING_PARTNERS]
    mine = {company_index(r): r for r in accounts_for(eco.scale, eco.seed, vendor)}
    theirs = {
        p.id: sorted(company_index(r) for r in accounts_for(eco.scale, eco.seed, p))
        for p, _ in partners
    }

    def when() -> datetime:
        return now - timedelta(days=rng.uniform(3, 110), seconds=rng.randrange(86_400))

    def intent(partner: Org, role: DealRole, index: int) -> Intent:
        product = PRODUCTS[index % len(PRODUCTS)] if rng.random() < 0.85 else rng.choice(PRODUCTS)
        return Intent(partner, role, index, product, when())

    intents: list[Intent] = []
    chosen: set[tuple[str, int]] = set()
    for partner, role in partners:
        shared = [i for i in theirs[partner.id] if i in mine]
        unknown = [i for i in theirs[partner.id] if i not in mine]
        picks = rng.sample(shared, min(len(shared), rng.randint(2, 5)))
        if unknown and rng.random() < 0.6:
            picks.append(rng.choice(unknown))
        churned = [i for i in shared if mine[i].populations[0] == "CHURNED"]
        if churned and rng.random() < 0.5:
            picks.append(rng.choice(churned))
        for index in picks:
            if (partner.id, index) not in chosen:
                chosen.add((partner.id, index))
                intents.append(intent(partner, role, index))
    # The most contested account: every partner holding it registers it (exclusive ones
    # collide, co-sellers share the opportunity).
    holders = Counter(i for p, _ in partners for i in theirs[p.id] if i in mine)
    if holders:
        hot = min(holders, key=lambda i: (-holders[i], i))
        product = PRODUCTS[hot % len(PRODUCTS)]
        for partner, role in [(p, r) for p, r in partners if hot in theirs[p.id]][
            :MAX_HOT_REGISTRANTS
        ]:
            if (partner.id, hot) not in chosen:
                chosen.add((partner.id, hot))
                intents.append(Intent(partner, role, hot, product, when()))
    intents.sort(key=lambda i: (i.at, i.partner.id, i.index))
    return intents


# --- registrations: the replay ----------------------------------------------------------


def actor_for(user: SeedUser) -> Actor:
    return Actor(
        user_id=user.id,
        org_id=user.org_id,
        role=user.role,
        token_id=f"seed-{user.id}",
        token_kind=TokenKind.API,
        scope=TokenScope.READ_WRITE,
    )


@dataclass(order=True, frozen=True, slots=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)  # register | review | withdraw | close
    intent: Intent | None = field(compare=False, default=None)
    registration_id: str = field(compare=False, default="")
    opportunity_id: str = field(compare=False, default="")
    outcome: OpportunityStatus | None = field(compare=False, default=None)


async def seed_registrations(
    graph: GraphStore,
    identity: IdentityStore,
    keyring: Keyring,
    eco: Ecosystem,
    vendor: Org,
    *,
    now: datetime,
) -> list[str] | None:
    """Replay the vendor's registrations; their ids, or None if it had some already."""
    if (await graph.list_deals(vendor.id, side="vendor", first=1)).items:
        return None
    program = program_for(eco, vendor)
    if program is not None:
        await graph.put_deal_program(program)
    rng = random.Random(f"{eco.seed}/{vendor.id}/reviews")
    users = {(u.org_id, u.role): u for u in eco.users}
    reviewer = actor_for(users[(vendor.id, Role.ADMIN)])
    seq = itertools.count()
    queue = [
        _Event(i.at, next(seq), "register", intent=i) for i in plan_registrations(eco, vendor, now)
    ]
    heapq.heapify(queue)
    made: list[str] = []
    partner_of: dict[str, Actor] = {}
    while queue:
        event = heapq.heappop(queue)
        follow: list[_Event] = []
        if event.kind == "register":
            assert event.intent is not None
            registration = await _register(graph, identity, keyring, eco, vendor, event, users)
            made.append(registration.id)
            partner_of[registration.id] = actor_for(
                users[(registration.partner_org, Role.SALES_REP)]
            )
            if registration.status is DealStatus.PENDING_REVIEW:
                follow = _after_registration(rng, registration, event.at, seq)
        elif event.kind == "review":
            follow = await _review(graph, identity, rng, reviewer, event, seq, now)
        elif event.kind == "withdraw":
            # Settled meanwhile (its opportunity closed first): nothing to withdraw.
            with contextlib.suppress(Conflict, IllegalTransition):
                await lifecycle.withdraw(
                    graph,
                    identity,
                    partner_of[event.registration_id],
                    event.registration_id,
                    note=WITHDRAW_NOTE,
                    now=event.at,
                )
        else:
            assert event.outcome is not None
            closed = await graph.close_opportunity(
                vendor.id,
                event.opportunity_id,
                status=event.outcome,
                closed_at=event.at,
                at=event.at,
            )
            if closed is not None:
                await lifecycle.settle(graph, opportunity_ids=[closed.id], now=event.at)
        for item in follow:
            if item.at < now:  # what would happen after the load has not happened yet
                heapq.heappush(queue, item)
    return made


async def _register(
    graph: GraphStore,
    identity: IdentityStore,
    keyring: Keyring,
    eco: Ecosystem,
    vendor: Org,
    event: _Event,
    users: dict[tuple[str, Role], SeedUser],
) -> DealRegistration:
    intent = event.intent
    assert intent is not None
    rng = random.Random(f"{eco.seed}/{vendor.id}/{intent.partner.id}/{intent.index}")
    firm = company(eco.seed, intent.index)
    request = DealRequest(
        vendor_org=vendor.id,
        role=intent.role,
        amount=deal_amount(rng),
        currency=currency_for(firm.domain),
        expected_close=(event.at + timedelta(days=rng.randint(30, 200))).date(),
        product_line=intent.product,
        domains=(firm.domain,),
    )
    actor = actor_for(users[(intent.partner.id, Role.SALES_REP)])
    return await register_deal(graph, identity, keyring, actor, request, now=event.at)


def _after_registration(
    rng: random.Random, registration: DealRegistration, at: datetime, seq: Iterator[int]
) -> list[_Event]:
    draw = rng.random()
    later = at + timedelta(days=rng.uniform(0.5, 6))
    if draw < 0.85:
        return [_Event(later, next(seq), "review", registration_id=registration.id)]
    if draw < 0.93:
        return [_Event(later, next(seq), "withdraw", registration_id=registration.id)]
    return []  # left under review


async def _review(
    graph: GraphStore,
    identity: IdentityStore,
    rng: random.Random,
    reviewer: Actor,
    event: _Event,
    seq: Iterator[int],
    now: datetime,
) -> list[_Event]:
    """Approve (most), reject (some, with a reason) or leave for later. Some approvals
    get an opportunity in the vendor's CRM, which closes WON or LOST before expiry."""
    draw = rng.random()
    if draw >= 0.85:
        return []
    found = (await graph.get_deals(reviewer.org_id, [event.registration_id])).get(
        event.registration_id
    )
    if found is None or rules.as_of(found, event.at).status is not DealStatus.PENDING_REVIEW:
        return []  # settled or withdrawn meanwhile
    if draw >= 0.65:
        await lifecycle.review(
            graph,
            identity,
            reviewer,
            found.id,
            decision=Decision.REJECT,
            note=rng.choice(REJECT_NOTES),
            now=event.at,
        )
        return []
    opportunity_id = None
    closing = found.opportunity_id is None and rng.random() < 0.6
    if closing:
        opportunity_id = await _open_opportunity(graph, reviewer.org_id, found, event.at)
    approved = await lifecycle.review(
        graph,
        identity,
        reviewer,
        found.id,
        decision=Decision.APPROVE,
        note=rng.choice(APPROVE_NOTES),
        opportunity_id=opportunity_id,
        now=event.at,
    )
    if opportunity_id is None or approved.expires_at is None:
        return []
    close_at = event.at + timedelta(days=rng.uniform(5, 80))
    if close_at >= min(approved.expires_at, now):
        return []  # still open at load time
    outcome = OpportunityStatus.WON if rng.random() < 0.6 else OpportunityStatus.LOST
    return [_Event(close_at, next(seq), "close", opportunity_id=opportunity_id, outcome=outcome)]


async def _open_opportunity(
    graph: GraphStore, vendor: str, registration: DealRegistration, at: datetime
) -> str:
    account = (await graph.get_accounts(vendor, [registration.account_id]))[registration.account_id]
    product = registration.product_line.title() or "Platform"
    [written] = await graph.upsert_opportunities(
        vendor,
        [
            OpportunityUpsert(
                crm_id=f"reg-{registration.id}",
                new_id=new_id(),
                account_crm_id=account.crm_id,
                name=f"{account.name} - {product} (partner-registered)",
                amount=registration.amount,
                currency=registration.currency,
                stage="Qualification",
                status=OpportunityStatus.OPEN,
                created_at=at,
            )
        ],
        at=at,
    )
    assert written.opportunity_id is not None
    return written.opportunity_id


async def registration_counts(
    graph: GraphStore, vendor: str, ids: list[str], now: datetime
) -> Counter[DealStatus]:
    counts: Counter[DealStatus] = Counter()
    for start in range(0, len(ids), 500):
        found = await graph.get_deals(vendor, ids[start : start + 500])
        counts.update(rules.effective_status(r, now) for r in found.values())
    return counts
