"""Subscriptions over graphql-transport-ws, authenticated at connection_init."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry import relay

from graph.deals import DealStatus
from resolvers.actor import Permission
from resolvers.events import DealRegistrationChanged, OverlapChanged
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


@strawberry.type(
    description="A deal registration you are vendor or partner of was registered or "
    "moved. Re-read it (node(id:)) for what you may see of it."
)
class DealRegistrationEvent:
    registration_id: relay.GlobalID
    status: DealStatus
    action: str = strawberry.field(
        description="REGISTER, APPROVE, REJECT, EXTEND, WITHDRAW, EXPIRE or SETTLE."
    )
    at: datetime

    @classmethod
    def from_event(cls, event: DealRegistrationChanged) -> DealRegistrationEvent:
        return cls(
            registration_id=relay.GlobalID("DealRegistration", event.registration_id),
            status=DealStatus(event.status),
            action=event.action,
            at=event.at,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Overlap changes announced by your ACTIVE partners.")
    async def overlap_events(self, info: Info) -> AsyncGenerator[OverlapEvent, None]:
        actor = info.context.actor
        actor.require(Permission.READ)
        async for event in info.context.events.subscribe(actor.org_id):
            if isinstance(event, OverlapChanged):
                yield OverlapEvent.from_event(event)

    @strawberry.subscription(
        description="Registrations you are vendor or partner of: created and every move."
    )
    async def deal_registration_events(
        self, info: Info
    ) -> AsyncGenerator[DealRegistrationEvent, None]:
        actor = info.context.actor
        actor.require(Permission.READ)
        async for event in info.context.events.subscribe(actor.org_id):
            if isinstance(event, DealRegistrationChanged):
                yield DealRegistrationEvent.from_event(event)
