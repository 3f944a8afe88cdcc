"""Factories for test data: build records with sensible defaults, override what matters."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ulid import ULID

from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    OpportunityStatus,
    OpportunityUpsert,
)
from graph.intros import (
    AccountAsk,
    AskKind,
    AskStatus,
    IntroducedEdge,
    Introduction,
    IntroStatus,
)
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    Org,
    OrgType,
    Partnership,
    PartnershipStatus,
)
from graph.port import GraphStore
from graph.touches import Touch, TouchKind, TouchStatus
from resolvers.deals.rules import claim_key

BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_counter = itertools.count()


def new_id() -> str:
    return str(ULID())


def at(minutes: int) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


def make_org(
    name: str | None = None,
    *,
    types: tuple[OrgType, ...] = (OrgType.VENDOR,),
    region: str = "EMEA",
    discoverable: bool = False,
    org_id: str | None = None,
) -> Org:
    n = next(_counter)
    return Org(
        id=org_id or new_id(),
        name=name or f"Org {n}",
        types=frozenset(types),
        region=region,
        discoverable=discoverable,
        created_at=at(n),
    )


def make_partnership(
    inviter: Org, invitee: Org, *, created: datetime | None = None, pid: str | None = None
) -> Partnership:
    when = created or at(next(_counter))
    return Partnership(
        id=pid or new_id(),
        inviter_id=inviter.id,
        invitee_id=invitee.id,
        status=PartnershipStatus.INVITED,
        created_at=when,
        updated_at=when,
    )


def fake_hash(label: str, version: int = 1) -> str:
    """A stand-in keyed hash (64 hex chars); contract tests need shape, not secrecy."""
    return hashlib.sha256(f"{version}:{label}".encode()).hexdigest()


def make_upsert(
    crm_id: str,
    *keys: str,
    name: str | None = None,
    owner: str | None = "owner@example.com",
    populations: tuple[str, ...] = ("CUSTOMER",),
    fields: tuple[tuple[str, str], ...] = (),
    kind: KeyKind = KeyKind.DOMAIN,
) -> AccountUpsert:
    return AccountUpsert(
        crm_id=crm_id,
        new_id=new_id(),
        name=name or f"Account {crm_id}",
        owner=owner,
        populations=populations,
        fields=fields,
        keys=tuple(HashedKey(kind, fake_hash(k)) for k in keys),
    )


# --- pipeline: opportunities and deal registrations ---------------------------------------


def make_opportunity(
    crm_id: str,
    account_crm_id: str,
    *,
    name: str | None = None,
    amount: Decimal = Decimal("1000.00"),
    currency: str = "EUR",
    stage: str = "Discovery",
    status: OpportunityStatus = OpportunityStatus.OPEN,
    created_at: datetime | None = None,
    closed_at: datetime | None = None,
    new_id_: str | None = None,
) -> OpportunityUpsert:
    return OpportunityUpsert(
        crm_id=crm_id,
        new_id=new_id_ or new_id(),
        account_crm_id=account_crm_id,
        name=name or f"Opportunity {crm_id}",
        amount=amount,
        currency=currency,
        stage=stage,
        status=status,
        created_at=created_at or BASE_TIME,
        closed_at=closed_at,
    )


def make_registration(
    vendor_org: str,
    partner_org: str,
    account_id: str,
    *,
    rid: str | None = None,
    role: DealRole = DealRole.RESELLER,
    product_line: str = "",
    status: DealStatus = DealStatus.PENDING_REVIEW,
    reasons: tuple[DealReason, ...] = (),
    registered_at: datetime | None = None,
    expires_at: datetime | None = None,
    amount: Decimal = Decimal("5000.00"),
    currency: str = "EUR",
    opportunity_id: str | None = None,
    registered_by: str = "user-1",
    program: DealProgram | None = None,
) -> DealRegistration:
    """A registration with the claim key the default program (or `program`) gives it."""
    when = registered_at or at(next(_counter))
    return DealRegistration(
        id=rid or new_id(),
        vendor_org=vendor_org,
        partner_org=partner_org,
        account_id=account_id,
        opportunity_id=opportunity_id,
        role=role,
        product_line=product_line,
        amount=amount,
        currency=currency,
        expected_close=date(2026, 6, 30),
        status=status,
        reasons=reasons,
        credit=Credit.SOURCED,
        registered_by=registered_by,
        registered_at=when,
        updated_at=when,
        claim_key=claim_key(
            vendor_org=vendor_org,
            account_id=account_id,
            product_line=product_line,
            role=role,
            partner_org=partner_org,
            program=program or DealProgram(vendor_org),
        ),
        expires_at=expires_at,
    )


# --- introductions and account asks ------------------------------------------------------


def intro_pair_key(a: str, b: str) -> str:
    """The unordered pair {a, b} (what the resolvers put in Introduction.pair_key)."""
    return json.dumps(sorted((a, b)))


def make_introduction(
    requester: Org,
    target: Org,
    *,
    broker: Org | None = None,
    iid: str | None = None,
    status: IntroStatus = IntroStatus.REQUESTED,
    created: datetime | None = None,
    expires: datetime | None = None,
    message: str = "Let us talk",
    requested_by: str = "user-1",
) -> Introduction:
    when = created or at(next(_counter))
    return Introduction(
        id=iid or new_id(),
        requester_org=requester.id,
        target_org=target.id,
        broker_org=None if broker is None else broker.id,
        message=message,
        status=status,
        requested_by=requested_by,
        created_at=when,
        updated_at=when,
        expires_at=expires or when + timedelta(days=30),
        pair_key=intro_pair_key(requester.id, target.id),
    )


def make_ask(
    requester: Org,
    partner: Org,
    account_id: str,
    partner_account_ids: tuple[str, ...] = (),
    *,
    aid: str | None = None,
    kind: AskKind = AskKind.CO_SELL_CALL,
    status: AskStatus = AskStatus.REQUESTED,
    created: datetime | None = None,
    expires: datetime | None = None,
    message: str = "Can you help?",
    requester_user: str = "rep-1",
) -> AccountAsk:
    when = created or at(next(_counter))
    return AccountAsk(
        id=aid or new_id(),
        requester_org=requester.id,
        requester_user=requester_user,
        partner_org=partner.id,
        account_id=account_id,
        partner_account_ids=tuple(sorted(partner_account_ids)),
        kind=kind,
        message=message,
        status=status,
        created_at=when,
        updated_at=when,
        expires_at=expires or when + timedelta(days=14),
    )


async def link(
    store: GraphStore,
    a: Org,
    b: Org,
    status: PartnershipStatus = PartnershipStatus.ACTIVE,
    *,
    when: datetime | None = None,
) -> Partnership:
    """A partnership `a` invited `b` to, moved to `status` through the store."""
    p = make_partnership(a, b, created=when)
    await store.insert_partnership(p)
    moves: list[tuple[Org, PartnershipStatus, PartnershipStatus]] = {
        PartnershipStatus.INVITED: [],
        PartnershipStatus.ACTIVE: [(b, PartnershipStatus.INVITED, PartnershipStatus.ACTIVE)],
        PartnershipStatus.DECLINED: [(b, PartnershipStatus.INVITED, PartnershipStatus.DECLINED)],
        PartnershipStatus.ENDED: [
            (b, PartnershipStatus.INVITED, PartnershipStatus.ACTIVE),
            (a, PartnershipStatus.ACTIVE, PartnershipStatus.ENDED),
        ],
    }[status]
    for actor, old, new in moves:
        moved = await store.transition_partnership(
            actor.id, p.id, expected=[old], new_status=new, at=p.created_at
        )
        assert moved is not None
        p = moved
    return p


# --- influence: touches and INTRODUCED edges ---------------------------------------------


def make_touch(
    vendor_org: str,
    partner_org: str,
    account_id: str,
    *,
    opportunity_id: str | None = None,
    external_id: str | None = None,
    kind: TouchKind = TouchKind.CO_SELL_MEETING,
    when: datetime | None = None,
    weight: Decimal = Decimal("1"),
    status: TouchStatus = TouchStatus.CONFIRMED,
    recorded_by: str | None = None,
    tid: str | None = None,
    created: datetime | None = None,
) -> Touch:
    """A touch recorded by the vendor (unless `recorded_by` says otherwise)."""
    n = next(_counter)
    moment = when or at(n)
    return Touch(
        id=tid or new_id(),
        vendor_org=vendor_org,
        partner_org=partner_org,
        external_id=external_id or f"ext-{n}",
        kind=kind,
        at=moment,
        weight=weight,
        account_id=account_id,
        opportunity_id=opportunity_id,
        status=status,
        recorded_by=recorded_by or vendor_org,
        created_at=created or moment,
    )


async def introduce(
    store: GraphStore, credited_org: str, from_org: str, to_org: str, when: datetime
) -> IntroducedEdge:
    """An INTRODUCED edge written the way the service writes it: an introduction from
    `from_org` to `to_org` (brokered by `credited_org`, or direct when it is `from_org`)
    accepted through `accept_introduction` at `when`. The partnership the acceptance
    creates is ended right away, so the same pair can be introduced again."""
    broker = None if credited_org == from_org else credited_org
    iid = new_id()
    intro = Introduction(
        id=iid,
        requester_org=from_org,
        target_org=to_org,
        broker_org=broker,
        message="Meet",
        status=IntroStatus.REQUESTED,
        requested_by="user-1",
        created_at=when - timedelta(days=1),
        updated_at=when - timedelta(days=1),
        expires_at=when + timedelta(days=30),
        pair_key=intro_pair_key(from_org, to_org),
    )
    await store.insert_introduction(intro)
    partnership = Partnership(
        id=new_id(),
        inviter_id=from_org,
        invitee_id=to_org,
        status=PartnershipStatus.ACTIVE,
        created_at=when,
        updated_at=when,
        activated_at=when,
    )
    accepted = Introduction(
        id=iid,
        requester_org=from_org,
        target_org=to_org,
        broker_org=broker,
        message="Meet",
        status=IntroStatus.ACCEPTED,
        requested_by="user-1",
        created_at=intro.created_at,
        updated_at=when,
        expires_at=intro.expires_at,
        pair_key=intro.pair_key,
        decided_at=when,
        decided_by_org=to_org,
        partnership_id=partnership.id,
    )
    edge = IntroducedEdge(
        introduction_id=iid, credited_org=credited_org, from_org=from_org, to_org=to_org, at=when
    )
    assert await store.accept_introduction(intro, accepted, partnership, edge) == accepted
    ended = await store.transition_partnership(
        from_org,
        partnership.id,
        expected=[PartnershipStatus.ACTIVE],
        new_status=PartnershipStatus.ENDED,
        at=when,
    )
    assert ended is not None
    return edge
