"""complementaryPartners: candidates from the store, scored by plain functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from graph.identity import IdentityStore
from graph.model import OrgType, Page
from graph.port import GraphStore
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.cosell import ranked_page
from resolvers.intros.discovery import Suggestion, score

MAX_CANDIDATES = 5_000
OVERLAP_POPULATION = "CUSTOMER"


async def complementary_partners(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    complements: Mapping[OrgType, frozenset[OrgType]],
    k: int,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
) -> Page[Suggestion]:
    """Orgs the viewer's org does not partner with yet, best fit first. Only orgs that
    opted in to discovery, or that share an ACTIVE partner with the viewer's org."""
    actor.require(Permission.READ)
    me = actor.org_id
    # The store already keeps to that rule; checking again costs nothing and means one
    # adapter bug cannot reveal a private org.
    candidates = [
        c
        for c in await graph.discovery_candidates(me, limit=MAX_CANDIDATES)
        if c.org_id != me and (c.discoverable or c.shared_partners)
    ]
    ids = [c.org_id for c in candidates]
    signals = await graph.candidate_signals(me, ids, population=OVERLAP_POPULATION)
    orgs = await graph.get_orgs([me, *ids])
    mine = orgs[me]
    suggestions = [
        score(mine, orgs[c.org_id], c, signals[c.org_id], complements=complements, k=k)
        for c in candidates
        if c.org_id in orgs and c.org_id in signals
    ]
    page = ranked_page(
        suggestions, lambda s: (s.score, s.org_id), first=first, after=after, backward=backward
    )
    await audit.record(
        identity, actor, "discovery.complementary", now=now, candidates=str(len(candidates))
    )
    return page
