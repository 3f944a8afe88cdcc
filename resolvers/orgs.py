"""Which orgs a viewer may see: its own, discoverable ones, and counterparties."""

from __future__ import annotations

from collections.abc import Sequence

from graph.model import Org
from graph.port import GraphStore
from resolvers.actor import Actor, Permission


async def visible_orgs(
    graph: GraphStore, actor: Actor, orgs: Sequence[Org | None]
) -> list[Org | None]:
    """`orgs` with every org the actor may not see replaced by None, so a hidden org
    and a missing one look the same."""
    actor.require(Permission.READ)
    candidates = [
        o.id for o in orgs if o is not None and o.id != actor.org_id and not o.discoverable
    ]
    related = await graph.counterparties(actor.org_id, candidates) if candidates else set()
    return [
        o if o is not None and (o.id == actor.org_id or o.discoverable or o.id in related) else None
        for o in orgs
    ]
