"""Touches: a partner's influence on a vendor's account or opportunity.

The vendor records touches on its own accounts and opportunities (CONFIRMED at once); a
partner records touches on its own deal registrations (PENDING until the vendor
confirms), so it never has to name, or learn anything about, the vendor's records.
Approved deal registrations and accepted account asks become touches by themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from graph.deals import DealRegistration, Opportunity
from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore
from graph.intros import AccountAsk
from graph.model import Account, Page, PartnershipStatus
from graph.port import GraphStore
from graph.touch_port import TouchSide
from graph.touches import Touch, TouchKind, TouchStatus
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.ids import new_id
from resolvers.timestamps import in_range

MAX_ROWS_PER_CALL = 5_000
MAX_EXTERNAL_ID = 200
MAX_WEIGHT = Decimal(1000)
FUTURE_SLACK = timedelta(minutes=5)


class TouchRowStatus(enum.StrEnum):
    RECORDED = "RECORDED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class TouchInput:
    """One touch. The vendor names the partner and its own account or opportunity; a
    partner names one of its own deal registrations instead."""

    external_id: str
    kind: TouchKind
    at: datetime
    weight: Decimal | None = None
    partner_org: str | None = None  # vendor-recorded
    account_id: str | None = None  # vendor-recorded
    opportunity_id: str | None = None  # vendor-recorded
    registration_id: str | None = None  # partner-recorded


@dataclass(frozen=True, slots=True)
class TouchRowResult:
    index: int
    external_id: str
    status: TouchRowStatus
    touch_id: str | None = None
    created: bool = False
    code: str | None = None
    field: str | None = None
    message: str | None = None


async def record(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    rows: Sequence[TouchInput],
    *,
    now: datetime,
) -> list[TouchRowResult]:
    if any(r.registration_id is None for r in rows):
        actor.require(Permission.MANAGE_PIPELINE)  # on the org's own pipeline
    if any(r.registration_id is not None for r in rows):
        actor.require(Permission.REGISTER_DEALS)  # on the org's own registrations
    if len(rows) > MAX_ROWS_PER_CALL:
        raise BadInput(f"at most {MAX_ROWS_PER_CALL} touches per call", field="touches")
    results: dict[int, TouchRowResult] = {}
    touches: list[tuple[int, Touch]] = []
    seen: set[str] = set()
    partner_orgs = {r.partner_org for r in rows if r.partner_org is not None}
    partners = await _active_partners(graph, actor.org_id, partner_orgs)
    own_opportunities = await graph.get_opportunities(
        actor.org_id, sorted({r.opportunity_id for r in rows if r.opportunity_id})
    )
    # A row naming only an opportunity touches that opportunity's account as well.
    own_accounts = await graph.get_accounts(
        actor.org_id,
        sorted(
            {r.account_id for r in rows if r.account_id}
            | {o.account_id for o in own_opportunities.values()}
        ),
    )
    registrations = await graph.get_deals(
        actor.org_id, sorted({r.registration_id for r in rows if r.registration_id})
    )
    for index, row in enumerate(rows):
        try:
            touch = _touch(
                row, actor, now, partners, own_accounts, own_opportunities, registrations
            )
        except BadInput as problem:
            results[index] = _reject(index, row, "INVALID", problem.field, problem.message)
            continue
        except NotFound as problem:
            results[index] = _reject(index, row, "NOT_FOUND", problem.field, problem.message)
            continue
        if row.external_id in seen:
            results[index] = _reject(
                index, row, "DUPLICATE", "externalId", "externalId repeated in this call"
            )
            continue
        seen.add(row.external_id)
        touches.append((index, touch))
    if touches:
        written = await graph.record_touches([t for _, t in touches])
        for (index, touch), outcome in zip(touches, written, strict=True):
            results[index] = TouchRowResult(
                index=index,
                external_id=touch.external_id,
                status=TouchRowStatus.RECORDED,
                touch_id=outcome.touch_id,
                created=outcome.created,
            )
    await audit.record(
        identity, actor, "touches.record", now=now, rows=str(len(rows)), written=str(len(touches))
    )
    return [results[i] for i in sorted(results)]


async def confirm(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    touch_ids: Sequence[str],
    *,
    accept: bool,
    now: datetime,
) -> list[Touch]:
    """The vendor confirms (or rejects) touches its partners recorded."""
    actor.require(Permission.MANAGE_PIPELINE)
    if len(touch_ids) > MAX_ROWS_PER_CALL:
        raise BadInput(f"at most {MAX_ROWS_PER_CALL} ids per call", field="ids")
    moved = await graph.set_touch_status(
        actor.org_id,
        list(dict.fromkeys(touch_ids)),
        expected=TouchStatus.PENDING,
        status=TouchStatus.CONFIRMED if accept else TouchStatus.REJECTED,
    )
    await audit.record(
        identity,
        actor,
        "touches.confirm" if accept else "touches.reject",
        now=now,
        requested=str(len(touch_ids)),
        moved=str(len(moved)),
    )
    return moved


async def list_mine(
    graph: GraphStore,
    actor: Actor,
    *,
    side: TouchSide,
    statuses: Sequence[TouchStatus] | None,
    first: int,
    after: str | None,
    backward: bool = False,
) -> Page[Touch]:
    actor.require(Permission.READ)
    return await graph.list_touches(
        actor.org_id, side=side, statuses=statuses, first=first, after=after, backward=backward
    )


async def from_registration(graph: GraphStore, registration: DealRegistration) -> None:
    """An approved registration is the partner's DEAL_REGISTRATION touch, at the time it
    registered; recorded by the vendor, so confirmed. Idempotent."""
    await graph.record_touches(
        [
            Touch(
                id=new_id(),
                vendor_org=registration.vendor_org,
                partner_org=registration.partner_org,
                external_id=f"tandem:registration:{registration.id}",
                kind=TouchKind.DEAL_REGISTRATION,
                at=registration.registered_at,
                weight=Decimal(1),
                account_id=registration.account_id,
                opportunity_id=registration.opportunity_id,
                status=TouchStatus.CONFIRMED,
                recorded_by=registration.vendor_org,
                created_at=registration.updated_at,
            )
        ]
    )


async def from_ask(graph: GraphStore, ask: AccountAsk, *, now: datetime) -> None:
    """An accepted account ask is the partner's INTRO touch on the asker's account."""
    await graph.record_touches(
        [
            Touch(
                id=new_id(),
                vendor_org=ask.requester_org,
                partner_org=ask.partner_org,
                external_id=f"tandem:ask:{ask.id}",
                kind=TouchKind.INTRO,
                at=ask.answered_at or now,
                weight=Decimal(1),
                account_id=ask.account_id,
                opportunity_id=None,
                status=TouchStatus.CONFIRMED,
                recorded_by=ask.requester_org,
                created_at=now,
            )
        ]
    )


async def _active_partners(graph: GraphStore, me: str, orgs: set[str]) -> set[str]:
    found = set()
    for org in orgs:
        live = await graph.live_partnership(me, org)
        if live is not None and live.status is PartnershipStatus.ACTIVE:
            found.add(org)
    return found


def _touch(
    row: TouchInput,
    actor: Actor,
    now: datetime,
    partners: set[str],
    accounts: dict[str, Account],
    opportunities: dict[str, Opportunity],
    registrations: dict[str, DealRegistration],
) -> Touch:
    external = row.external_id.strip()
    if not external or len(external) > MAX_EXTERNAL_ID:
        raise BadInput(f"externalId must be 1 to {MAX_EXTERNAL_ID} characters", field="externalId")
    if external.startswith("tandem:"):
        raise BadInput("externalIds starting with tandem: are reserved", field="externalId")
    at = in_range(row.at, "at")
    if at > now + FUTURE_SLACK:
        raise BadInput("a touch cannot be in the future", field="at")
    weight = Decimal(1) if row.weight is None else row.weight
    if not weight.is_finite() or weight < 0 or weight > MAX_WEIGHT:
        raise BadInput(f"weight must be between 0 and {MAX_WEIGHT}", field="weight")
    if row.registration_id is not None:
        if row.partner_org or row.account_id or row.opportunity_id:
            raise BadInput(
                "give a registrationId, or a partner with an account or opportunity",
                field="registrationId",
            )
        registration = registrations.get(row.registration_id)
        if registration is None or registration.partner_org != actor.org_id:
            raise NotFound("no such deal registration of yours", field="registrationId")
        return Touch(
            id=new_id(),
            vendor_org=registration.vendor_org,
            partner_org=actor.org_id,
            external_id=external,
            kind=row.kind,
            at=at,
            weight=weight,
            account_id=registration.account_id,
            opportunity_id=registration.opportunity_id,
            status=TouchStatus.PENDING,
            recorded_by=actor.org_id,
            created_at=now,
        )
    if row.partner_org is None or row.partner_org not in partners:
        raise NotFound("no active partnership with that organization", field="partnerId")
    account_id = row.account_id
    if row.opportunity_id is not None:
        opportunity = opportunities.get(row.opportunity_id)
        if opportunity is None:
            raise NotFound("no such opportunity", field="opportunityId")
        if account_id is not None and account_id != opportunity.account_id:
            raise BadInput("that opportunity is on another account", field="accountId")
        account_id = opportunity.account_id
    if account_id is None or account_id not in accounts:
        raise NotFound("no such account", field="accountId")
    return Touch(
        id=new_id(),
        vendor_org=actor.org_id,
        partner_org=row.partner_org,
        external_id=external,
        kind=row.kind,
        at=at,
        weight=weight,
        account_id=account_id,
        opportunity_id=row.opportunity_id,
        status=TouchStatus.CONFIRMED,
        recorded_by=actor.org_id,
        created_at=now,
    )


def _reject(
    index: int, row: TouchInput, code: str, field: str | None, message: str
) -> TouchRowResult:
    return TouchRowResult(
        index=index,
        external_id=row.external_id[:MAX_EXTERNAL_ID],
        status=TouchRowStatus.REJECTED,
        code=code,
        field=field,
        message=message,
    )
