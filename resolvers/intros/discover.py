"""complementaryPartners: candidates from the store, scored by plain functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from graph.identity import IdentityStore
from graph.intros import Candidate
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
    candidates = await _candidates(graph, actor.org_id)
    suggestions = await _scored(graph, actor.org_id, candidates, complements=complements, k=k)
    page = ranked_page(
        suggestions, lambda s: (s.score, s.org_id), first=first, after=after, backward=backward
    )
    await audit.record(
        identity, actor, "discovery.complementary", now=now, candidates=str(len(candidates))
    )
    return page


async def complementary_partner(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    org_id: str,
    complements: Mapping[OrgType, frozenset[OrgType]],
    k: int,
    now: datetime,
) -> Suggestion | None:
    """One row of `complementary_partners`, recomputed for the viewer now: None when the
    list would not hold it now (a partner already, blocked, no longer discoverable nor
    sharing an ACTIVE partner, private, missing: all alike).

    Cost: the whole candidate list is read (one store call, up to MAX_CANDIDATES rows)
    to decide whether the org is a candidate exactly as the list decides; signals and the
    score are computed for that one org only, not the ranking."""
    actor.require(Permission.READ)
    candidates = [c for c in await _candidates(graph, actor.org_id) if c.org_id == org_id]
    found = (
        await _scored(graph, actor.org_id, candidates, complements=complements, k=k)
        if candidates
        else []
    )
    await audit.record(
        identity,
        actor,
        "discovery.candidate",
        now=now,
        target_type="Org",
        target_id=org_id,
        rows=str(len(found)),
    )
    return found[0] if found else None


async def _candidates(graph: GraphStore, me: str) -> list[Candidate]:
    """Only orgs that opted in to discovery, or that share an ACTIVE partner with mine.
    The store already keeps to that rule; checking again costs nothing and means one
    adapter bug cannot reveal a private org."""
    return [
        c
        for c in await graph.discovery_candidates(me, limit=MAX_CANDIDATES)
        if c.org_id != me and (c.discoverable or c.shared_partners)
    ]


async def _scored(
    graph: GraphStore,
    me: str,
    candidates: list[Candidate],
    *,
    complements: Mapping[OrgType, frozenset[OrgType]],
    k: int,
) -> list[Suggestion]:
    ids = [c.org_id for c in candidates]
    signals = await graph.candidate_signals(me, ids, population=OVERLAP_POPULATION)
    orgs = await graph.get_orgs([me, *ids])
    mine = orgs[me]
    return [
        score(mine, orgs[c.org_id], c, signals[c.org_id], complements=complements, k=k)
        for c in candidates
        if c.org_id in orgs and c.org_id in signals
    ]
