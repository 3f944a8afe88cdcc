"""Plain records for the pipeline: opportunities, deal programs and deal registrations.

Money is `Decimal` with an ISO 4217 currency code, never a float: stores keep the exact
decimal text (or NUMERIC) and give back the same Decimal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class OpportunityStatus(enum.StrEnum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


@dataclass(frozen=True, slots=True)
class OpportunityUpsert:
    """An opportunity to create or replace, identified by (org, crm_id), on the org's
    account with `account_crm_id`. `new_id` is used only when it does not exist yet."""

    crm_id: str
    new_id: str
    account_crm_id: str
    name: str
    amount: Decimal
    currency: str
    stage: str
    status: OpportunityStatus
    created_at: datetime  # the CRM's creation time, not the load time
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str
    org_id: str
    crm_id: str
    account_id: str
    name: str
    amount: Decimal
    currency: str
    stage: str
    status: OpportunityStatus
    created_at: datetime
    closed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OpportunityWrite:
    """The outcome of one upserted row: `opportunity_id` is None when the org has no
    account with the row's `account_crm_id` (nothing was written for that row)."""

    crm_id: str
    opportunity_id: str | None
    created: bool
    # The status before this write, when the opportunity existed (to detect closing).
    previous_status: OpportunityStatus | None = None


class DealRole(enum.StrEnum):
    RESELLER = "RESELLER"
    REFERRAL = "REFERRAL"
    SI = "SI"
    ISV = "ISV"
    INFLUENCER = "INFLUENCER"


class DealStatus(enum.StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WON = "WON"
    LOST = "LOST"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"

    @property
    def is_live(self) -> bool:
        """A live registration holds its claim (and an exclusive slot, if exclusive)."""
        return self in (DealStatus.PENDING_REVIEW, DealStatus.APPROVED)


class DealReason(enum.StrEnum):
    """Why a registration got its status; recorded by the automatic checks."""

    DUPLICATE = "DUPLICATE"  # a live exclusive claim existed first
    DIRECT_ONLY = "DIRECT_ONLY"  # the vendor sells this account direct only
    EXISTING_PIPELINE = "EXISTING_PIPELINE"  # the vendor had an OPEN opportunity before
    NEW_PROSPECT = "NEW_PROSPECT"  # unknown to the vendor: a prospect was created
    AUTO_APPROVED = "AUTO_APPROVED"  # the program's auto-approve rule matched


class Credit(enum.StrEnum):
    SOURCED = "SOURCED"  # the partner brought the deal
    INFLUENCED = "INFLUENCED"  # the vendor had it in pipeline already


@dataclass(frozen=True, slots=True)
class DealProgram:
    """A vendor's rules of engagement. Defaults apply until the vendor sets its own."""

    vendor_org: str
    exclusive_roles: frozenset[DealRole] = frozenset({DealRole.RESELLER, DealRole.REFERRAL})
    expiry_days: int = 90
    extension_days: int = 30
    max_extensions: int = 2
    existing_pipeline_blocks: bool = False  # True: REJECTED instead of PENDING_REVIEW
    auto_approve_roles: frozenset[DealRole] = frozenset()
    auto_approve_max_amount: Decimal | None = None  # None: no amount limit
    direct_only_populations: frozenset[str] = frozenset()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DealRegistration:
    id: str
    vendor_org: str
    partner_org: str
    account_id: str  # the vendor's account
    opportunity_id: str | None
    role: DealRole
    product_line: str  # canonical (trimmed, casefolded); "" when not given
    amount: Decimal  # the partner's expected amount
    currency: str
    expected_close: date
    status: DealStatus
    reasons: tuple[DealReason, ...]
    credit: Credit
    registered_by: str  # user id
    registered_at: datetime  # server time: first-in is decided by it
    updated_at: datetime
    # The claim this registration holds while live: exclusive registrations share one
    # key per (vendor, account, product line); others one per partner and role.
    claim_key: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    expires_at: datetime | None = None
    extensions: int = 0


@dataclass(frozen=True, slots=True)
class DealTransition:
    """One entry of a registration's history, written with the change it records.
    `actor_org` and `actor_user` are None for the server's own moves (expiry, closing)."""

    registration_id: str
    at: datetime
    from_status: DealStatus | None  # None for the registration itself
    to_status: DealStatus
    actor_org: str | None
    actor_user: str | None
    note: str | None = None
