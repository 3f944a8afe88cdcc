"""Factories for test data: build records with sensible defaults, override what matters."""

from __future__ import annotations

import hashlib
import itertools
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
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    Org,
    OrgType,
    Partnership,
    PartnershipStatus,
)
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
