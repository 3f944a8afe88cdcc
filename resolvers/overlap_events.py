"""Tell partners that their overlap with a writer may have changed: only for populations
the writer shares with them at COUNTS or above, and without identities.

One function, `audience`, applies the sharing policy (in Python, never in a query) and
decides who is told what. Its answer feeds both channels:

- the OVERLAP webhook events (`outbox_events`), which the resolver hands to the store's
  account write so they are written in the same transaction: they exist iff the write
  commits;
- the subscription event (`publish`), sent after the write has committed.

The audience is computed just before the write. A sharing change (a rule lowered to
HIDDEN, a partnership ended) that lands between the two can make one announcement reach
a partner that has just lost access; it carries no account identity, only the writer and
population names the partner could see a moment earlier.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from graph.outbox import overlap_events
from graph.port import GraphStore
from graph.webhooks import OutboxEvent
from privacy.policy import grants
from resolvers.events import EventBroker, OverlapChanged
from resolvers.partnerships import active_partnerships

# partner org id -> the written populations it may see at COUNTS or above, sorted
Audience = dict[str, tuple[str, ...]]


async def audience(
    graph: GraphStore, *, writer_org: str, populations: Collection[str] | None
) -> Audience:
    """Each ACTIVE partner of `writer_org` that may see (at COUNTS or above) one of the
    written `populations` (None: any it may see, e.g. for deletes), with those populations.
    Partners that may see none of them are left out; the writer never appears."""
    told: Audience = {}
    for partnership in await active_partnerships(graph, writer_org):
        partner = partnership.other(writer_org)
        if partner == writer_org:
            continue
        rules = await graph.sharing_rules(writer_org, partner)
        candidates = populations if populations is not None else [r.population for r in rules]
        visible = sorted(
            g.population
            for g in grants(partner, writer_org, partnership, rules, set(candidates))
            if g.shows_counts
        )
        if visible:
            told[partner] = tuple(visible)
    return told


def outbox_events(
    writer_org: str, told: Mapping[str, Collection[str]], at: datetime
) -> list[OutboxEvent]:
    """The OVERLAP webhook events for `told`, one per partner, for the store to write with
    the account write."""
    return overlap_events(writer_org, told, at)


async def publish(
    events: EventBroker, *, writer_org: str, told: Mapping[str, Collection[str]], now: datetime
) -> int:
    """Publish the subscription event to each partner of `told` (after the write has
    committed). Returns how many partners were told."""
    for partner, visible in sorted(told.items()):
        await events.publish(partner, OverlapChanged(writer_org, tuple(sorted(visible)), now))
    return len(told)
