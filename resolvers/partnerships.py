"""Partnerships: invite -> accept or decline; either side ends. Re-inviting works."""

from __future__ import annotations

from datetime import datetime

from graph.errors import BadInput, Conflict, NotFound
from graph.identity import IdentityStore
from graph.model import Page, Partnership, PartnershipStatus
from graph.port import GraphStore
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.ids import new_id

NO_SUCH_ORG = "no such organization"
NO_SUCH_PARTNERSHIP = "no such partnership"


async def invite(
    graph: GraphStore, identity: IdentityStore, actor: Actor, *, org_id: str, now: datetime
) -> Partnership:
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    if org_id == actor.org_id:
        raise BadInput("an organization cannot partner with itself", field="orgId")
    if org_id not in await graph.get_orgs([org_id]):
        raise NotFound(NO_SUCH_ORG)
    proposal = Partnership(
        id=new_id(),
        inviter_id=actor.org_id,
        invitee_id=org_id,
        status=PartnershipStatus.INVITED,
        created_at=now,
        updated_at=now,
    )
    try:
        created = await graph.insert_partnership(proposal)
    except Conflict:
        live = await graph.live_partnership(actor.org_id, org_id)
        state = live.status.value.lower() if live else "live"
        raise Conflict(f"a {state} partnership with this organization exists") from None
    await audit.record(
        identity,
        actor,
        "partnership.invite",
        now=now,
        target_type="Partnership",
        target_id=created.id,
        invitee=org_id,
    )
    return created


async def respond(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partnership_id: str,
    accept: bool,
    now: datetime,
) -> Partnership:
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    current = await _get(graph, actor, partnership_id)
    if current.invitee_id != actor.org_id:
        raise Conflict("only the invited organization can answer an invitation")
    new_status = PartnershipStatus.ACTIVE if accept else PartnershipStatus.DECLINED
    updated = await graph.transition_partnership(
        actor.org_id,
        partnership_id,
        expected=[PartnershipStatus.INVITED],
        new_status=new_status,
        at=now,
    )
    if updated is None:
        raise Conflict(f"the partnership is {current.status.value}, not INVITED")
    await audit.record(
        identity,
        actor,
        "partnership.accept" if accept else "partnership.decline",
        now=now,
        target_type="Partnership",
        target_id=partnership_id,
    )
    return updated


async def end(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partnership_id: str,
    now: datetime,
) -> Partnership:
    """Either side ends an active partnership, or withdraws/refuses a pending one."""
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    current = await _get(graph, actor, partnership_id)
    updated = await graph.transition_partnership(
        actor.org_id,
        partnership_id,
        expected=[PartnershipStatus.INVITED, PartnershipStatus.ACTIVE],
        new_status=PartnershipStatus.ENDED,
        at=now,
    )
    if updated is None:
        raise Conflict(f"the partnership is already {current.status.value}")
    await audit.record(
        identity,
        actor,
        "partnership.end",
        now=now,
        target_type="Partnership",
        target_id=partnership_id,
    )
    return updated


async def list_mine(
    graph: GraphStore,
    actor: Actor,
    *,
    status: PartnershipStatus | None,
    first: int,
    after: str | None,
    backward: bool = False,
) -> Page[Partnership]:
    actor.require(Permission.READ)
    return await graph.list_partnerships(
        actor.org_id, status=status, first=first, after=after, backward=backward
    )


async def _get(graph: GraphStore, actor: Actor, partnership_id: str) -> Partnership:
    found = await graph.get_partnerships(actor.org_id, [partnership_id])
    if partnership_id not in found:
        raise NotFound(NO_SUCH_PARTNERSHIP)
    return found[partnership_id]


async def active_partnerships(graph: GraphStore, org_id: str) -> list[Partnership]:
    """Every ACTIVE partnership of the org (all pages)."""
    found: list[Partnership] = []
    after: str | None = None
    while True:
        page = await graph.list_partnerships(
            org_id, status=PartnershipStatus.ACTIVE, first=100, after=after
        )
        found.extend(p for p in page.items if p.status is PartnershipStatus.ACTIVE)
        if not page.has_next or not page.cursors:
            return found
        after = page.cursors[-1]
