"""Moves after registration: review, extend, withdraw, and the server's own expiry.

Each move reads the registration, applies the rules to its state as of now, and
writes with compare-and-set: a concurrent move makes the later one fail with Conflict
(re-read and decide again) instead of overwriting.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import datetime

from graph.deals import DealRegistration, DealTransition, OpportunityStatus
from graph.errors import BadInput, Conflict, Forbidden, NotFound
from graph.identity import IdentityStore
from graph.port import GraphStore
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.deals import rules
from resolvers.deals.announce import announce
from resolvers.deals.rules import DealAction
from resolvers.events import EventBroker
from resolvers.influence import touches
from resolvers.sweeps import drain

NO_SUCH_REGISTRATION = "no such deal registration"
MAX_NOTE = 1_000


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


async def review(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    registration_id: str,
    *,
    decision: Decision,
    note: str,
    opportunity_id: str | None = None,
    now: datetime,
    events: EventBroker | None = None,
) -> DealRegistration:
    """The vendor approves or rejects a registration under review, with a reason."""
    actor.require(Permission.REVIEW_DEALS)
    reason = _note(note, required=True)
    current = await _as_vendor(graph, actor, registration_id, now)
    action = DealAction.APPROVE if decision is Decision.APPROVE else DealAction.REJECT
    status = rules.next_status(current.status, action)
    changes: dict[str, object] = {}
    if action is DealAction.APPROVE:
        program = await graph.deal_program(actor.org_id)
        changes["expires_at"] = rules.approval_expiry(program, now)
        if opportunity_id is not None:
            changes["opportunity_id"] = await _opportunity_on_account(
                graph, actor.org_id, opportunity_id, current.account_id
            )
    elif opportunity_id is not None:
        raise BadInput("only an approval links an opportunity", field="opportunityId")
    new = replace(
        current,
        status=status,
        decided_at=now,
        decided_by=actor.user_id,
        decision_note=reason,
        updated_at=now,
        **changes,  # type: ignore[arg-type]
    )
    return await _write(graph, identity, actor, current, new, action, reason, now, events)


async def extend(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    registration_id: str,
    *,
    note: str | None,
    now: datetime,
    events: EventBroker | None = None,
) -> DealRegistration:
    """The vendor gives an approved registration more time, a bounded number of times."""
    actor.require(Permission.REVIEW_DEALS)
    clean_note = _note(note, required=False)
    current = await _as_vendor(graph, actor, registration_id, now)
    status = rules.next_status(current.status, DealAction.EXTEND)
    program = await graph.deal_program(actor.org_id)
    new = replace(
        current,
        status=status,
        expires_at=rules.extended_expiry(current, program, now),
        extensions=current.extensions + 1,
        updated_at=now,
    )
    return await _write(
        graph, identity, actor, current, new, DealAction.EXTEND, clean_note, now, events
    )


async def withdraw(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    registration_id: str,
    *,
    note: str | None,
    now: datetime,
    events: EventBroker | None = None,
) -> DealRegistration:
    """The partner drops its own claim; an exclusive slot becomes free at once."""
    actor.require(Permission.REGISTER_DEALS)
    clean_note = _note(note, required=False)
    current = await _visible(graph, actor, registration_id, now)
    if current.partner_org != actor.org_id:
        raise Forbidden("only the registering partner may withdraw a registration")
    status = rules.next_status(current.status, DealAction.WITHDRAW)
    new = replace(current, status=status, updated_at=now)
    return await _write(
        graph, identity, actor, current, new, DealAction.WITHDRAW, clean_note, now, events
    )


async def expire_due(
    graph: GraphStore, *, now: datetime, events: EventBroker | None = None
) -> list[DealRegistration]:
    """The server's sweep: write EXPIRED for approvals whose time is up, and settle
    registrations left live on closed opportunities (e.g. by a crash between closing
    and settling). Reads never wait for it: they apply expiry themselves."""
    moved = await drain(lambda limit: graph.expire_deals(now, limit=limit))
    settled = await settle(graph, opportunity_ids=None, now=now, events=None)
    if events is not None:
        for registration in moved:
            await announce(events, registration, action=DealAction.EXPIRE.value, now=now)
        for registration in settled:
            await announce(events, registration, action="SETTLE", now=now)
    return moved + settled


async def settle(
    graph: GraphStore,
    *,
    opportunity_ids: list[str] | None,
    now: datetime,
    events: EventBroker | None = None,
) -> list[DealRegistration]:
    """Move registrations on closed opportunities by rules.CLOSE_OUTCOMES."""
    moved = await drain(
        lambda limit: graph.settle_registrations(
            opportunity_ids=opportunity_ids, outcomes=rules.CLOSE_OUTCOMES, at=now, limit=limit
        )
    )
    if events is not None:
        for registration in moved:
            await announce(events, registration, action="SETTLE", now=now)
    return moved


async def _write(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    current: DealRegistration,
    new: DealRegistration,
    action: DealAction,
    note: str | None,
    now: datetime,
    events: EventBroker | None,
) -> DealRegistration:
    transition = DealTransition(
        registration_id=current.id,
        at=now,
        from_status=current.status,
        to_status=new.status,
        actor_org=actor.org_id,
        actor_user=actor.user_id,
        note=note,
    )
    written = await graph.update_deal(current, new, transition)
    if written is None:
        raise Conflict("the registration changed meanwhile; read it again", field="id")
    if action is DealAction.APPROVE:
        await touches.from_registration(graph, written)
    await audit.record(
        identity,
        actor,
        f"deal.{action.value.lower()}",
        now=now,
        target_type="DealRegistration",
        target_id=written.id,
        status=written.status.value,
    )
    if events is not None:
        await announce(events, written, action=action.value, now=now)
    return written


async def _visible(
    graph: GraphStore, actor: Actor, registration_id: str, now: datetime
) -> DealRegistration:
    found = (await graph.get_deals(actor.org_id, [registration_id])).get(registration_id)
    if found is None:
        raise NotFound(NO_SUCH_REGISTRATION)
    return rules.as_of(found, now)


async def _as_vendor(
    graph: GraphStore, actor: Actor, registration_id: str, now: datetime
) -> DealRegistration:
    registration = await _visible(graph, actor, registration_id, now)
    if registration.vendor_org != actor.org_id:
        raise Forbidden("only the vendor reviews and extends registrations")
    return registration


async def _opportunity_on_account(
    graph: GraphStore, vendor: str, opportunity_id: str, account_id: str
) -> str:
    opportunity = (await graph.get_opportunities(vendor, [opportunity_id])).get(opportunity_id)
    if opportunity is None:
        raise NotFound("no such opportunity")
    if opportunity.account_id != account_id:
        raise BadInput("that opportunity is on another account", field="opportunityId")
    if opportunity.status is not OpportunityStatus.OPEN:
        raise Conflict("that opportunity is closed", field="opportunityId")
    return opportunity.id


def _note(note: str | None, *, required: bool) -> str | None:
    clean = (note or "").strip()
    if required and not clean:
        raise BadInput("give a reason", field="reason")
    if len(clean) > MAX_NOTE:
        raise BadInput(f"the reason must be at most {MAX_NOTE} characters", field="reason")
    return clean or None
