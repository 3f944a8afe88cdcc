"""Account-level asks: a rep asks an ACTIVE partner for help on one overlapping account.

The ask is allowed only where the partner already shares the overlap at OVERLAPS level
or higher, so the account is no secret between them. The partner sees the ask as its
own matching accounts (never the requester's record); the requester's asking is what
tells the partner that the requester holds that account, and that is its choice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from graph.errors import Conflict, NotFound
from graph.identity import IdentityStore
from graph.intro_port import AskSide
from graph.intros import AccountAsk, AskKind, AskStatus
from graph.model import HashedKey, Page, PartnershipStatus
from graph.port import GraphStore
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.cosell import listable_populations
from resolvers.events import EventBroker, IntroductionChanged
from resolvers.ids import new_id
from resolvers.influence import touches
from resolvers.intros import rules
from resolvers.intros.introductions import check_budget, clean_text
from resolvers.intros.rules import AskAction, Party, SafetyPolicy
from resolvers.overlaps import MATCH_KINDS
from resolvers.sweeps import as_of_page, drain

NO_SUCH_ASK = "no such ask"
NO_SHARED_OVERLAP = "this partner does not share an overlap on that account with you"


async def ask(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partner_org: str,
    account_id: str,
    kind: AskKind,
    message: str,
    now: datetime,
    policy: SafetyPolicy,
    events: EventBroker | None = None,
) -> AccountAsk:
    actor.require(Permission.ASK_PARTNERS)
    text = clean_text(message, required=True, field="message") or ""
    me = actor.org_id
    account = (await graph.get_accounts(me, [account_id])).get(account_id)
    if account is None:
        raise NotFound("no such account")
    partnership = await graph.live_partnership(me, partner_org)
    if partnership is None or partnership.status is not PartnershipStatus.ACTIVE:
        raise NotFound("no active partnership with that organization")
    listable = await listable_populations(graph, actor, partnership)
    keys = [HashedKey(k.kind, k.h) for k in account.keys if k.kind in MATCH_KINDS]
    matches = (
        [
            a.id
            for a in await graph.accounts_by_keys(partner_org, keys)
            if set(a.populations) & set(listable)
        ]
        if keys and listable
        else []
    )
    if not matches:
        raise NotFound(NO_SHARED_OVERLAP)
    await check_budget(graph, actor, policy, now)
    created = await graph.insert_ask(
        AccountAsk(
            id=new_id(),
            requester_org=me,
            requester_user=actor.user_id,
            partner_org=partner_org,
            account_id=account.id,
            partner_account_ids=tuple(sorted(matches)),
            kind=kind,
            message=text,
            status=AskStatus.REQUESTED,
            created_at=now,
            updated_at=now,
            expires_at=now + policy.expiry,
        )
    )
    await audit.record(
        identity,
        actor,
        "ask.request",
        now=now,
        target_type="AccountAsk",
        target_id=created.id,
        partner=partner_org,
        kind=kind.value,
    )
    await _announce(events, created, now)
    return created


async def move(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    ask_id: str,
    *,
    action: AskAction,
    note: str | None,
    now: datetime,
    events: EventBroker | None = None,
) -> AccountAsk:
    """The partner accepts or declines with a note; the requester withdraws."""
    actor.require(Permission.ASK_PARTNERS)
    clean_note = clean_text(note, required=False, field="note")
    current = await _visible(graph, actor, ask_id, now)
    party = Party.REQUESTER if current.requester_org == actor.org_id else Party.TARGET
    status = rules.next_ask_status(current, action, by=party)
    new = replace(current, status=status, updated_at=now)
    if party is Party.TARGET:
        new = replace(new, answered_at=now, answered_by=actor.user_id, note=clean_note)
    written = await graph.update_ask(current, new)
    if written is None:
        raise Conflict("the ask changed meanwhile; read it again", field="id")
    if written.status is AskStatus.ACCEPTED:
        await touches.from_ask(graph, written, now=now)
    await audit.record(
        identity,
        actor,
        f"ask.{action.value.lower()}",
        now=now,
        target_type="AccountAsk",
        target_id=written.id,
        status=written.status.value,
    )
    await _announce(events, written, now)
    return written


async def get(
    graph: GraphStore, actor: Actor, ids: list[str], *, now: datetime
) -> dict[str, AccountAsk]:
    actor.require(Permission.READ)
    found = await graph.get_asks(actor.org_id, ids)
    return {i: rules.effective_ask(found[i], now) for i in found}


async def list_mine(
    graph: GraphStore,
    actor: Actor,
    *,
    side: AskSide,
    statuses: list[AskStatus] | None,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
) -> Page[AccountAsk]:
    actor.require(Permission.READ)
    stored = None
    if statuses:
        stored = set(statuses)
        if AskStatus.EXPIRED in stored:
            stored.add(AskStatus.REQUESTED)
    page = await graph.list_asks(
        actor.org_id,
        side=side,
        statuses=sorted(stored) if stored is not None else None,
        first=first,
        after=after,
        backward=backward,
    )
    return as_of_page(page, lambda a: rules.effective_ask(a, now), lambda a: a.status, statuses)


async def expire_due(
    graph: GraphStore, *, now: datetime, events: EventBroker | None = None
) -> list[AccountAsk]:
    expired = await drain(lambda limit: graph.expire_asks(now, limit=limit))
    for item in expired:
        await _announce(events, item, now)
    return expired


async def _visible(graph: GraphStore, actor: Actor, ask_id: str, now: datetime) -> AccountAsk:
    found = (await graph.get_asks(actor.org_id, [ask_id])).get(ask_id)
    if found is None:
        raise NotFound(NO_SUCH_ASK)
    return rules.effective_ask(found, now)


async def _announce(events: EventBroker | None, item: AccountAsk, now: datetime) -> None:
    if events is None:
        return
    event = IntroductionChanged("ASK", item.id, item.status.value, now)
    for org_id in (item.requester_org, item.partner_org):
        await events.publish(org_id, event)
