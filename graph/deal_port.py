"""The pipeline half of the GraphStore port: opportunities, deal programs, registrations.

The rules (which check gives which status, which transition is legal) live in
`resolvers.deals.rules`; a store only keeps records and enforces the two things only a
store can: first-in claims and compare-and-set transitions, both race-free across any
number of API processes (a uniqueness constraint on the held claim, not a Python lock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from graph.deals import (
    DealProgram,
    DealRegistration,
    DealStatus,
    DealTransition,
    Opportunity,
    OpportunityStatus,
    OpportunityUpsert,
    OpportunityWrite,
)
from graph.model import Account, HashedKey, Page

DealSide = Literal["vendor", "partner"]


@dataclass(frozen=True, slots=True)
class DealStats:
    """One partner's record with one vendor, for lead routing."""

    won: int  # registrations WON
    live: int  # registrations PENDING_REVIEW or APPROVED (its current load)


class DealStore(Protocol):
    # --- opportunities ------------------------------------------------------------------

    async def upsert_opportunities(
        self, acting_org: str, rows: Sequence[OpportunityUpsert], *, at: datetime
    ) -> list[OpportunityWrite]:
        """Create or replace opportunities by (acting_org, crm_id) on the acting org's
        accounts (found by `account_crm_id`), all rows in one transaction, results in
        row order. A row whose account does not exist writes nothing and comes back with
        opportunity_id None. Replacing sets every field from the row; updated_at = at.
        Rows must have distinct crm_ids (BadInput). Amounts come back as the same
        Decimal (exact; never through a float)."""
        ...

    async def get_opportunities(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Opportunity]:
        """The acting org's opportunities among `ids`."""
        ...

    async def list_opportunities(
        self,
        acting_org: str,
        *,
        status: OpportunityStatus | None = None,
        account_id: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Opportunity]:
        """The acting org's opportunities, filtered, ordered by id."""
        ...

    async def open_opportunities(
        self, acting_org: str, account_id: str, *, created_before: datetime
    ) -> list[Opportunity]:
        """The acting org's OPEN opportunities on one account created before the time
        given, ordered by created_at then id."""
        ...

    async def close_opportunity(
        self,
        acting_org: str,
        opportunity_id: str,
        *,
        status: OpportunityStatus,
        closed_at: datetime,
        at: datetime,
    ) -> Opportunity | None:
        """Compare-and-set OPEN -> `status` (WON or LOST). None when the opportunity is
        not the acting org's or is not OPEN."""
        ...

    async def settle_registrations(
        self,
        *,
        opportunity_ids: Sequence[str] | None,
        outcomes: Mapping[OpportunityStatus, Mapping[DealStatus, DealStatus]],
        at: datetime,
        limit: int,
    ) -> list[DealRegistration]:
        """For registrations ON a closed opportunity (among `opportunity_ids`, or any when
        None): a registration whose status is a key of `outcomes[opportunity.status]`
        moves to the mapped status, in one transaction, at most `limit` of them, with a
        history entry by the server (actor None) and its claim released when the new
        status is not live. Returns the moved registrations (new state). Idempotent: a
        second call finds nothing left to move."""
        ...

    # --- the vendor's program and direct-only accounts ----------------------------------

    async def deal_program(self, vendor_org: str) -> DealProgram:
        """The vendor's program; DealProgram(vendor_org) defaults when never set."""
        ...

    async def put_deal_program(self, program: DealProgram) -> DealProgram:
        """Insert or replace the vendor's program."""
        ...

    async def set_direct_only(
        self, acting_org: str, account_ids: Sequence[str], direct_only: bool
    ) -> list[str]:
        """Mark (or unmark) the acting org's accounts as direct-only. Returns the ids
        among `account_ids` that are the acting org's accounts (others are ignored)."""
        ...

    async def direct_only_accounts(self, acting_org: str, account_ids: Sequence[str]) -> set[str]:
        """The ids among `account_ids` that the acting org marked direct-only."""
        ...

    async def accounts_by_keys(self, acting_org: str, keys: Sequence[HashedKey]) -> list[Account]:
        """The acting org's accounts holding any of `keys` (same kind, and the stored hash
        equal to the key's `active` or `target` hash), ordered by id."""
        ...

    # --- registrations ------------------------------------------------------------------

    async def register_deal(self, registration: DealRegistration) -> DealRegistration:
        """Store a new registration, in one transaction:

        1. Lazy expiry: every APPROVED registration holding `registration.claim_key` with
           expires_at <= registration.registered_at becomes EXPIRED (updated_at =
           registered_at, a history entry by the server, its claim released).
        2. If `registration.status` is live, take its claim. If a live registration
           already holds the same claim_key, the new one is stored REJECTED instead, with
           DealReason.DUPLICATE appended to its reasons, holding no claim.
        3. A history entry (from_status None -> stored status, by the partner org and
           `registered_by`).

        Returns the registration as stored. First-in by server time, race-free: under any
        number of concurrent calls for one claim key, from any number of processes, at
        most one registration holds it, enforced by a uniqueness constraint in the store.
        Conflict if the id exists."""
        ...

    async def get_deals(self, acting_org: str, ids: Sequence[str]) -> dict[str, DealRegistration]:
        """The registrations among `ids` whose vendor or partner is the acting org."""
        ...

    async def list_deals(
        self,
        acting_org: str,
        *,
        side: DealSide,
        statuses: Sequence[DealStatus] | None = None,
        account_id: str | None = None,
        opportunity_id: str | None = None,
        counterparty: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[DealRegistration]:
        """Registrations where the acting org is the vendor (side="vendor") or the
        partner (side="partner"), filtered (`counterparty` is the partner org for a
        vendor, the vendor org for a partner), newest first (id descending)."""
        ...

    async def deals_on_accounts(
        self, vendor_org: str, account_ids: Sequence[str]
    ) -> list[DealRegistration]:
        """Every registration with the vendor on these vendor accounts, ordered by id.
        For the co-registrant view; the caller decides what each viewer sees."""
        ...

    async def update_deal(
        self, current: DealRegistration, new: DealRegistration, transition: DealTransition
    ) -> DealRegistration | None:
        """Compare-and-set: replace the stored registration by `new` only while it still
        has `current.status` and `current.extensions`; add `transition` to its history
        in the same transaction; release its claim when `new.status` is not live. None
        when the registration changed in between (the caller re-reads and re-decides)."""
        ...

    async def expire_deals(self, now: datetime, *, limit: int) -> list[DealRegistration]:
        """APPROVED registrations with expires_at <= now become EXPIRED (updated_at =
        now, history by the server, claims released), at most `limit`, earliest expiry
        first. Returns them in their new state."""
        ...

    async def deal_history(self, acting_org: str, registration_id: str) -> list[DealTransition]:
        """The history of a registration the acting org is vendor or partner of, oldest
        first (empty when it is not visible)."""
        ...

    async def deal_histories(
        self, acting_org: str, registration_ids: Sequence[str]
    ) -> dict[str, list[DealTransition]]:
        """`deal_history` for many registrations in one round trip: by registration id,
        only those the acting org is vendor or partner of (the others are absent)."""
        ...

    async def deal_stats(
        self, vendor_org: str, partner_orgs: Sequence[str]
    ) -> dict[str, DealStats]:
        """Per partner among `partner_orgs` with at least one registration with the
        vendor: how many WON and how many live."""
        ...
