"""The Org node."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.model import Org, OrgType
from resolvers.orgs import visible_orgs
from schema.context import Info


@strawberry.type(name="Org", description="An organization: a vendor or a partner, a tenant.")
class OrgNode(relay.Node):
    id: relay.NodeID[str]
    name: str
    types: list[OrgType]
    region: str
    discoverable: bool
    created_at: datetime

    @classmethod
    def from_record(cls, org: Org) -> Self:
        return cls(
            id=org.id,
            name=org.name,
            types=sorted(org.types),
            region=org.region,
            discoverable=org.discoverable,
            created_at=org.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        orgs = await context.loaders.org.load_many(list(node_ids))
        visible = await visible_orgs(context.store, context.actor, orgs)
        return [cls.from_record(org) if org is not None else None for org in visible]


async def load_org(info: Info, org_id: str | None) -> OrgNode | None:
    """An org the viewer already has a reason to see (own, counterparty of a record)."""
    if org_id is None:
        return None
    org = await info.context.loaders.org.load(org_id)
    return OrgNode.from_record(org) if org is not None else None
