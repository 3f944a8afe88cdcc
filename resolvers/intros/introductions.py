"""Org-level introductions: request (direct or brokered), forward, answer, withdraw.

Consent at every step: a broker passes a request on before the target sees it; the
target's acceptance is what creates the partnership (ACTIVE, every population HIDDEN
until either side shares). Blocks, a daily budget and a cooling-off period after a
decline keep it from becoming a spam channel.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from graph.errors import (
    BadInput,
    Conflict,
    CoolingOff,
    DuplicateRequest,
    NotFound,
    RateLimited,
)
from graph.identity import IdentityStore
from graph.intro_port import IntroRole
from graph.intros import IntroducedEdge, Introduction, IntroStatus
from graph.model import Page, Partnership, PartnershipStatus
from graph.port import GraphStore
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.events import EventBroker, IntroductionChanged
from resolvers.ids import new_id
from resolvers.intros import rules
from resolvers.intros.rules import IntroAction, Party, SafetyPolicy
from resolvers.partnerships import active_partnerships
from resolvers.sweeps import SWEEP_LIMIT, as_of_page, drain

NO_SUCH_ORG = "no such organization"
NO_SUCH_BROKER = "the broker must be an active partner of both organizations"
NO_SUCH_INTRODUCTION = "no such introduction"
MAX_MESSAGE = 2_000


async def reachable(graph: GraphStore, me: str, other: str) -> bool:
    """May `me` see and ask `other`: it exists, no block either way, and it is
    discoverable or shares an ACTIVE partner with me (the same rule as discovery)."""
    org = (await graph.get_orgs([other])).get(other)
    if org is None or other == me or await graph.blocked_between(me, other):
        return False
    if org.discoverable:
        return True
    return bool(await shared_partners(graph, me, other))


async def shared_partners(graph: GraphStore, me: str, other: str) -> set[str]:
    mine = {p.other(me) for p in await active_partnerships(graph, me)}
    theirs = {p.other(other) for p in await active_partnerships(graph, other)}
    return (mine & theirs) - {me, other}


async def check_budget(
    graph: GraphStore, actor: Actor, policy: SafetyPolicy, now: datetime
) -> None:
    day = timedelta(days=1)
    if await graph.requests_since(actor.org_id, now - day) >= policy.daily_requests:
        raise RateLimited(
            f"your organization sent {policy.daily_requests} requests in the last 24 hours",
            retry_after=day.total_seconds() / policy.daily_requests,
        )


async def request(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    target_org: str,
    broker_org: str | None,
    message: str,
    now: datetime,
    policy: SafetyPolicy,
    events: EventBroker | None = None,
) -> Introduction:
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    text = clean_text(message, required=True, field="message")
    me = actor.org_id
    if target_org == me:
        raise BadInput("an organization cannot be introduced to itself", field="targetOrgId")
    if not await reachable(graph, me, target_org):
        raise NotFound(NO_SUCH_ORG)
    if await graph.live_partnership(me, target_org) is not None:
        raise Conflict("you already partner (or have an invitation) with this organization")
    if broker_org is not None and broker_org not in await shared_partners(graph, me, target_org):
        raise NotFound(NO_SUCH_BROKER)
    until = rules.cooling_off_until(await graph.last_declined(me, target_org), policy)
    if until is not None and until > now:
        raise CoolingOff(
            f"this organization declined recently; you may ask again after {until:%Y-%m-%d}",
            field="targetOrgId",
        )
    await check_budget(graph, actor, policy, now)
    introduction = Introduction(
        id=new_id(),
        requester_org=me,
        target_org=target_org,
        broker_org=broker_org,
        message=text or "",
        status=IntroStatus.REQUESTED,
        requested_by=actor.user_id,
        created_at=now,
        updated_at=now,
        expires_at=now + policy.expiry,
        pair_key=rules.pair_key(me, target_org),
    )
    # A stale open request (past its expiry, not yet swept) must not hold the pair.
    await graph.expire_introductions(now, limit=SWEEP_LIMIT)
    try:
        stored = await graph.insert_introduction(introduction)
    except Conflict:
        raise DuplicateRequest(
            "an open introduction between your organizations exists", field="targetOrgId"
        ) from None
    await audit.record(
        identity,
        actor,
        "introduction.request",
        now=now,
        target_type="Introduction",
        target_id=stored.id,
        target=target_org,
        broker=broker_org or "",
    )
    await _announce(events, stored, now)
    return stored


async def respond(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    introduction_id: str,
    *,
    action: IntroAction,
    note: str | None,
    now: datetime,
    events: EventBroker | None = None,
) -> Introduction:
    """Forward or decline as the broker, accept or decline as the target, withdraw as
    the requester. Accepting creates the ACTIVE partnership and the INTRODUCED edge."""
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    clean_note = clean_text(note, required=False, field="note")
    current = await _visible(graph, actor, introduction_id, now)
    party = _party(current, actor.org_id, action)
    status = rules.next_intro_status(current, action, by=party)
    new = replace(current, status=status, updated_at=now)
    if action is IntroAction.FORWARD:
        new = replace(new, forwarded_at=now, note=clean_note)
    elif action is not IntroAction.WITHDRAW:
        new = replace(new, decided_at=now, decided_by_org=actor.org_id, note=clean_note)
    if status is IntroStatus.ACCEPTED:
        partnership = Partnership(
            id=new_id(),
            inviter_id=current.requester_org,
            invitee_id=current.target_org,
            status=PartnershipStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            activated_at=now,
        )
        edge = IntroducedEdge(
            introduction_id=current.id,
            credited_org=current.broker_org or current.requester_org,
            from_org=current.requester_org,
            to_org=current.target_org,
            at=now,
        )
        written = await graph.accept_introduction(
            current, replace(new, partnership_id=partnership.id), partnership, edge
        )
    else:
        written = await graph.update_introduction(current, new)
    if written is None:
        raise Conflict("the introduction changed meanwhile; read it again", field="id")
    await audit.record(
        identity,
        actor,
        f"introduction.{action.value.lower()}",
        now=now,
        target_type="Introduction",
        target_id=written.id,
        status=written.status.value,
    )
    await _announce(events, written, now)
    return written


async def get(
    graph: GraphStore, actor: Actor, ids: list[str], *, now: datetime
) -> dict[str, Introduction]:
    actor.require(Permission.READ)
    found = await graph.get_introductions(actor.org_id, ids)
    return {i: rules.effective_intro(found[i], now) for i in found}


async def list_mine(
    graph: GraphStore,
    actor: Actor,
    *,
    role: IntroRole,
    statuses: list[IntroStatus] | None,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
) -> Page[Introduction]:
    """Newest first; a status filter sees through lazy expiry like deal registrations."""
    actor.require(Permission.READ)
    stored = None
    if statuses:
        stored = set(statuses)
        if IntroStatus.EXPIRED in stored:
            stored |= {IntroStatus.REQUESTED, IntroStatus.FORWARDED}
    page = await graph.list_introductions(
        actor.org_id,
        role=role,
        statuses=sorted(stored) if stored is not None else None,
        first=first,
        after=after,
        backward=backward,
    )
    return as_of_page(page, lambda i: rules.effective_intro(i, now), lambda i: i.status, statuses)


async def expire_due(
    graph: GraphStore, *, now: datetime, events: EventBroker | None = None
) -> list[Introduction]:
    expired = await drain(lambda limit: graph.expire_introductions(now, limit=limit))
    for introduction in expired:
        await _announce(events, introduction, now)
    return expired


def audience(introduction: Introduction) -> list[str]:
    """The orgs that may see the introduction in its current state."""
    orgs = [introduction.requester_org]
    if introduction.broker_org is not None:
        orgs.append(introduction.broker_org)
    if introduction.broker_org is None or introduction.forwarded_at is not None:
        orgs.append(introduction.target_org)
    return orgs


async def _announce(events: EventBroker | None, introduction: Introduction, now: datetime) -> None:
    if events is None:
        return
    event = IntroductionChanged("INTRODUCTION", introduction.id, introduction.status.value, now)
    for org_id in audience(introduction):
        await events.publish(org_id, event)


async def _visible(
    graph: GraphStore, actor: Actor, introduction_id: str, now: datetime
) -> Introduction:
    found = (await graph.get_introductions(actor.org_id, [introduction_id])).get(introduction_id)
    if found is None:
        raise NotFound(NO_SUCH_INTRODUCTION)
    return rules.effective_intro(found, now)


def _party(introduction: Introduction, org_id: str, action: IntroAction) -> Party:
    """The acting org's party for this action (an org is never two parties at once)."""
    parties = rules.parties_of(introduction, org_id)
    wanted = {
        IntroAction.FORWARD: Party.BROKER,
        IntroAction.BROKER_DECLINE: Party.BROKER,
        IntroAction.ACCEPT: Party.TARGET,
        IntroAction.DECLINE: Party.TARGET,
        IntroAction.WITHDRAW: Party.REQUESTER,
    }.get(action)
    if wanted in parties:
        return wanted
    return next(iter(parties)) if parties else Party.SERVER


def clean_text(value: str | None, *, required: bool, field: str) -> str | None:
    clean = (value or "").strip()
    if required and not clean:
        raise BadInput(f"{field} must not be empty", field=field)
    if len(clean) > MAX_MESSAGE:
        raise BadInput(f"{field} must be at most {MAX_MESSAGE} characters", field=field)
    return clean or None


async def set_block(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    other_org: str,
    *,
    blocked: bool,
    now: datetime,
) -> bool:
    """Block an org that can reach you or that you can see (discoverable, in a shared
    ecosystem, or ever a counterparty) from your discovery and requests, or lift your
    block. Anything else is NotFound, so blocking is no way to learn whether an org
    exists."""
    actor.require(Permission.MANAGE_PARTNERSHIPS)
    me = actor.org_id
    if other_org == me:
        raise BadInput("an organization cannot block itself", field="orgId")
    known = (
        other_org in await graph.blocked_orgs(me)
        or await reachable(graph, me, other_org)
        or await reachable(graph, other_org, me)
        or bool(await graph.counterparties(me, [other_org]))
    )
    if not known:
        raise NotFound(NO_SUCH_ORG)
    changed = await graph.set_block(me, other_org, blocked, at=now)
    await audit.record(
        identity,
        actor,
        "org.block" if blocked else "org.unblock",
        now=now,
        target_type="Org",
        target_id=other_org,
        changed=str(changed).lower(),
    )
    return changed
