"""Reading registrations: who sees what.

A partner sees its own registrations and, for the deal they share (same vendor account
and product line), the other registrants' roles and statuses: never their identity or
amounts. The vendor sees every registration on its accounts. Nobody else sees anything.
Every read applies expiry as of now, so a stale approval never reads as live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.deal_port import DealSide
from graph.deals import DealRegistration, DealRole, DealStatus, DealTransition
from graph.model import Page
from graph.port import GraphStore
from resolvers.actor import Actor, Permission
from resolvers.deals import rules
from resolvers.sweeps import as_of_page

# Shown to co-registrants: those still in the running or that won.
PEER_STATUSES = frozenset({DealStatus.PENDING_REVIEW, DealStatus.APPROVED, DealStatus.WON})


@dataclass(frozen=True, slots=True)
class CoRegistrant:
    role: DealRole
    status: DealStatus


async def get_registrations(
    graph: GraphStore, actor: Actor, ids: Sequence[str], *, now: datetime
) -> dict[str, DealRegistration]:
    actor.require(Permission.READ)
    found = await graph.get_deals(actor.org_id, ids)
    return {i: rules.as_of(r, now) for i, r in found.items()}


async def list_registrations(
    graph: GraphStore,
    actor: Actor,
    *,
    side: DealSide,
    statuses: Sequence[DealStatus] | None,
    account_id: str | None = None,
    opportunity_id: str | None = None,
    counterparty: str | None = None,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
) -> Page[DealRegistration]:
    """Newest first. A status filter sees through lazy expiry: EXPIRED also finds
    approvals whose time is up, and APPROVED leaves them out."""
    actor.require(Permission.READ)
    wanted = set(statuses) if statuses else None
    stored = None
    if wanted is not None:
        stored = set(wanted)
        if DealStatus.EXPIRED in wanted:
            stored.add(DealStatus.APPROVED)
    page = await graph.list_deals(
        actor.org_id,
        side=side,
        statuses=sorted(stored) if stored is not None else None,
        account_id=account_id,
        opportunity_id=opportunity_id,
        counterparty=counterparty,
        first=first,
        after=after,
        backward=backward,
    )
    return as_of_page(page, lambda r: rules.as_of(r, now), lambda r: r.status, wanted)


async def co_registrants(
    graph: GraphStore, registrations: Sequence[DealRegistration], *, now: datetime
) -> dict[str, list[CoRegistrant]]:
    """Per registration, the other registrations on the same deal (vendor account and
    product line) that are live or won, as role and status only. One store call for
    any number of registrations of one vendor or several."""
    by_vendor: dict[str, set[str]] = {}
    for registration in registrations:
        by_vendor.setdefault(registration.vendor_org, set()).add(registration.account_id)
    on_deal: dict[tuple[str, str, str], list[DealRegistration]] = {}
    for vendor, accounts in by_vendor.items():
        for other in await graph.deals_on_accounts(vendor, sorted(accounts)):
            key = (other.vendor_org, other.account_id, other.product_line)
            on_deal.setdefault(key, []).append(rules.as_of(other, now))
    result: dict[str, list[CoRegistrant]] = {}
    for registration in registrations:
        key = (registration.vendor_org, registration.account_id, registration.product_line)
        result[registration.id] = [
            CoRegistrant(other.role, other.status)
            for other in on_deal.get(key, [])
            if other.id != registration.id and other.status in PEER_STATUSES
        ]
    return result


async def history(graph: GraphStore, actor: Actor, registration_id: str) -> list[DealTransition]:
    actor.require(Permission.READ)
    return await graph.deal_history(actor.org_id, registration_id)
