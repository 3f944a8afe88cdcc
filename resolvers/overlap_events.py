"""Tell partners, after a write commits, that their overlap with the writer may have
changed: only for populations the writer shares with them, and without identities."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from graph.port import GraphStore
from privacy.policy import grants
from resolvers.events import EventBroker, OverlapChanged
from resolvers.partnerships import active_partnerships


async def announce(
    graph: GraphStore,
    events: EventBroker,
    *,
    writer_org: str,
    populations: Collection[str] | None,
    now: datetime,
) -> int:
    """Publish to each ACTIVE partner that may see (at COUNTS or above) one of the
    written `populations` (None: any it may see, e.g. after deletes). Returns how many
    partners were told."""
    told = 0
    for partnership in await active_partnerships(graph, writer_org):
        partner = partnership.other(writer_org)
        rules = await graph.sharing_rules(writer_org, partner)
        candidates = populations if populations is not None else [r.population for r in rules]
        visible = sorted(
            g.population
            for g in grants(partner, writer_org, partnership, rules, set(candidates))
            if g.shows_counts
        )
        if visible:
            await events.publish(partner, OverlapChanged(writer_org, tuple(visible), now))
            told += 1
    return told
