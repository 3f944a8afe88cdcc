"""Subscriptions over graphql-transport-ws, authenticated at connection_init."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from resolvers.actor import Permission
from resolvers.events import OverlapChanged
from schema.context import Info
from schema.orgs import OrgNode, load_org


@strawberry.type(
    description="A partner changed accounts in populations it shares with you: your "
    "overlap with it may have changed. Re-read overlapMatrix / overlaps for the numbers."
)
class OverlapEvent:
    partner_populations: list[str]
    at: datetime
    _partner_id: strawberry.Private[str]

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner_id)

    @classmethod
    def from_event(cls, event: OverlapChanged) -> OverlapEvent:
        return cls(
            partner_populations=list(event.partner_populations),
            at=event.at,
            _partner_id=event.partner_id,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Overlap changes announced by your ACTIVE partners.")
    async def overlap_events(self, info: Info) -> AsyncGenerator[OverlapEvent, None]:
        actor = info.context.actor
        actor.require(Permission.READ)
        async for event in info.context.events.subscribe(actor.org_id):
            yield OverlapEvent.from_event(event)
