"""Plain records for discovery and introductions: org-level introductions, account-level
asks, blocks, and the raw signals discovery scores from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class IntroStatus(enum.StrEnum):
    REQUESTED = "REQUESTED"  # direct: waiting for the target; brokered: for the broker
    FORWARDED = "FORWARDED"  # the broker passed it on: waiting for the target
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"

    @property
    def is_open(self) -> bool:
        """An open request blocks a second one between the same pair."""
        return self in (IntroStatus.REQUESTED, IntroStatus.FORWARDED)


@dataclass(frozen=True, slots=True)
class Introduction:
    id: str
    requester_org: str
    target_org: str
    broker_org: str | None  # None: a direct request
    message: str
    status: IntroStatus
    requested_by: str  # user id
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    # Held while open, one per unordered pair: the store's uniqueness guarantee.
    pair_key: str
    forwarded_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by_org: str | None = None
    note: str | None = None  # the last answer's note (broker's or target's)
    partnership_id: str | None = None  # the partnership an acceptance created


@dataclass(frozen=True, slots=True)
class IntroducedEdge:
    """(broker)-[:INTRODUCED]->: `from_org` and `to_org` were introduced, crediting
    `credited_org` (the broker, or the requester itself for a direct introduction)."""

    introduction_id: str
    credited_org: str
    from_org: str
    to_org: str
    at: datetime


class AskKind(enum.StrEnum):
    INTRO_TO_CONTACT = "INTRO_TO_CONTACT"
    CO_SELL_CALL = "CO_SELL_CALL"
    REFERENCE = "REFERENCE"


class AskStatus(enum.StrEnum):
    REQUESTED = "REQUESTED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"

    @property
    def is_open(self) -> bool:
        return self is AskStatus.REQUESTED


@dataclass(frozen=True, slots=True)
class AccountAsk:
    """A sales rep asks an ACTIVE partner for help on one of the rep's accounts that
    overlaps, at OVERLAPS level or higher, with the partner's `partner_account_ids`."""

    id: str
    requester_org: str
    requester_user: str
    partner_org: str
    account_id: str  # the requester's own account
    partner_account_ids: tuple[str, ...]  # the partner's matching accounts (sorted)
    kind: AskKind
    message: str
    status: AskStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    answered_by: str | None = None  # user id of the partner's answerer
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An org discovery may suggest, with the raw signals (the service scores, buckets
    and suppresses). `shared_partners` are the ACTIVE partners both orgs have."""

    org_id: str
    discoverable: bool
    shared_partners: tuple[str, ...]  # sorted


@dataclass(frozen=True, slots=True)
class CandidateSignals:
    org_id: str
    customer_overlap: int  # my CUSTOMER accounts sharing a key with their CUSTOMER ones
    co_won_deals: int  # vendor deals both registered on that ended WON for both
